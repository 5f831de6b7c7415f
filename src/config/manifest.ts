import { z } from 'zod';

/** A path the manifest names: relative, "/"-separated, inside the bundle (never absolute, never ".."). */
const bundlePath = z
  .string()
  .refine((path) => path !== '' && !path.startsWith('/') && !path.includes('\\') && !/^[A-Za-z]:/.test(path) && !path.split('/').includes('..'), {
    message: 'a path inside the bundle (relative, "/"-separated, without "..")',
  });

export const manifestFileSchema = z.object({
  path: bundlePath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});

export const manifestSchema = z.object({
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
      outputs: z.record(z.string(), z.string()),
    })
    .optional(),
  /** The export options; `verify` reads the gates from them, so those are validated. */
  options: z
    .object({
      fp32Tolerance: z.number().nonnegative().optional(),
      int8Top1: z.number().min(0).max(1).optional(),
      gates: z
        .array(
          z.object({
            task: z.string().optional(),
            comparison: z.enum(['fp32', 'int8']),
            metric: z.enum(['maxAbsDiff', 'top1Agreement']),
            limit: z.number().nonnegative(),
          }),
        )
        .optional(),
    })
    .catchall(z.unknown()),
  bridge: z.object({ lockSha256: z.string(), versions: z.record(z.string(), z.string().nullable()) }),
  runtime: z.record(z.string(), z.unknown()),
  files: z.array(manifestFileSchema),
}).superRefine((manifest, context) => {
  // every graph, weights and config file a reader opens must be one the checksums cover
  const listed = new Set(manifest.files.map((file) => file.path));
  const named = [
    ...manifest.tasks.flatMap((task) => [task.fp32, task.config, task.weights, task.int8, task.int8Weights]),
    ...(manifest.multihead ? [manifest.multihead.fp32, manifest.multihead.weights, manifest.multihead.int8, manifest.multihead.int8Weights] : []),
  ];
  for (const path of named) {
    if (path !== undefined && !listed.has(path)) context.addIssue({ code: 'custom', message: `"${path}" is not among the manifest's files`, path: ['files'] });
  }
});
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;
