import { join } from 'node:path';
import { z } from 'zod';
import { gateSpecSchema } from '../plan/gate-spec.js';
import { VARIANT_PLANS, VARIANTS, type Variant } from '../plan/variants.js';

/** A path the manifest names: relative, "/"-separated, inside the bundle (never absolute, never ".."). */
const bundlePath = z
  .string()
  .refine(
    (path) =>
      path !== '' &&
      !path.startsWith('/') &&
      !path.includes('\\') &&
      !/^[A-Za-z]:/.test(path) &&
      !path.split('/').includes('..'),
    {
      message: 'a path inside the bundle (relative, "/"-separated, without "..")',
    },
  );

const manifestFileSchema = z.object({
  path: bundlePath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});

export const manifestSchema = z
  .object({
    schema: z.literal('rapidfit-export/manifest'),
    schemaVersion: z.literal(1),
    createdAt: z.string(),
    verified: z.boolean(),
    tool: z.object({ name: z.string(), version: z.string() }),
    source: z.object({ modelDir: z.string(), format: z.string() }),
    tasks: z.array(
      z.object({
        name: z.string(),
        fp32: bundlePath,
        config: bundlePath,
        weights: bundlePath.optional(),
        int8: bundlePath.optional(),
        int8Weights: bundlePath.optional(),
        fp16: bundlePath.optional(),
        fp16Weights: bundlePath.optional(),
        numLabels: z.number().int(),
      }),
    ),
    /** multihead.onnx (and its INT8 graph): the shared encoder with one output per task, task -> output name. Absent in single-task and older bundles. */
    multihead: z
      .object({
        fp32: bundlePath,
        weights: bundlePath.optional(),
        int8: bundlePath.optional(),
        int8Weights: bundlePath.optional(),
        fp16: bundlePath.optional(),
        fp16Weights: bundlePath.optional(),
        outputs: z.record(z.string(), z.string()),
      })
      .optional(),
    /** The export options; `verify` reads the gates from them, so those are validated. */
    options: z
      .object({
        fp32Tolerance: z.number().nonnegative().optional(),
        int8Top1: z.number().min(0).max(1).optional(),
        gates: z.array(gateSpecSchema).optional(),
      })
      .catchall(z.unknown()),
    bridge: z.object({ lockSha256: z.string(), versions: z.record(z.string(), z.string().nullable()) }),
    runtime: z.record(z.string(), z.unknown()),
    files: z.array(manifestFileSchema),
  })
  .superRefine((manifest, context) => {
    // every graph, weights and config file a reader opens must be one the checksums cover
    const listed = new Set(manifest.files.map((file) => file.path));
    const named = [
      ...manifest.tasks.flatMap((task) => [
        task.config,
        ...VARIANTS.flatMap((variant) => Object.values(variantFiles(task, variant) ?? {})),
      ]),
      ...(manifest.multihead
        ? VARIANTS.flatMap((variant) => Object.values(variantFiles(manifest.multihead!, variant) ?? {}))
        : []),
    ];
    for (const path of named) {
      if (path !== undefined && !listed.has(path))
        context.addIssue({ code: 'custom', message: `"${path}" is not among the manifest's files`, path: ['files'] });
    }
  });
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/** The manifest fields of a graph entry (a task's, or the multihead graph's): one graph and weights file per variant. */
type GraphEntry = { [K in (typeof VARIANT_PLANS)[Variant]['manifest']['graph' | 'weights']]?: string | undefined };

/** A variant's graph (and external weights, if any) in a manifest entry, by the plan's keys; undefined when the entry has none. */
export function variantFiles(entry: GraphEntry, variant: Variant): { graph: string; weights?: string } | undefined {
  const keys = VARIANT_PLANS[variant].manifest;
  const graph = entry[keys.graph];
  if (graph === undefined) return undefined;
  const weights = entry[keys.weights];
  return { graph, ...(weights !== undefined ? { weights } : {}) };
}

/** variant -> graph path (inside `dir`) of a manifest entry, for every variant of the plan it has. */
export function variantGraphPaths(dir: string, entry: GraphEntry): Partial<Record<Variant, string>> {
  return Object.fromEntries(
    VARIANTS.flatMap((variant) => {
      const files = variantFiles(entry, variant);
      return files ? [[variant, join(dir, files.graph)]] : [];
    }),
  );
}

/** The manifest fields of a variant's graph: { int8: "x_int8.onnx", int8Weights: "x_int8_weights.bin" }. */
export function variantEntry(
  variant: Variant,
  files: { graph: string; weights?: string | undefined } | undefined,
): GraphEntry {
  if (!files) return {};
  const keys = VARIANT_PLANS[variant].manifest;
  return { [keys.graph]: files.graph, ...(files.weights ? { [keys.weights]: files.weights } : {}) };
}
