import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z, ZodError } from 'zod';
import { InputError } from '../errors.js';
import { describeFirstIssue } from '../config/zod-issues.js';
import { GATE_METRICS, VARIANTS, type GateMetric, type Variant } from './variants.js';

/** A gate override (--gate, --gates-file, the library's `gates`, the manifest's recorded options): declared once. */
export const gateSpecSchema = z.object({
  task: z.string().optional(),
  comparison: z.enum(VARIANTS),
  metric: z.enum(Object.keys(GATE_METRICS) as [GateMetric, ...GateMetric[]]),
  limit: z.number().min(0),
});
export type GateSpec = z.infer<typeof gateSpecSchema>;

/** How a proportion gate is judged: at its value, or at the pessimistic end of its 95% interval. */
export const GATE_ON = ['point', 'lower-bound'] as const;
export type GateOn = (typeof GATE_ON)[number];

const METRIC_BY_KEY: Record<string, GateMetric> = Object.fromEntries(
  Object.entries(GATE_METRICS).map(([metric, { key }]) => [key, metric as GateMetric]),
);
const GATE_TEXT = new RegExp(
  `^(?:([A-Za-z0-9_-]+)\\.)?(${VARIANTS.join('|')})\\.(${Object.keys(METRIC_BY_KEY).join('|')})=([0-9.eE+-]+)$`,
);

/** A gate override from --gate: "[task.]<variant>.max_abs=1e-5" or "[task.]<variant>.top1=0.98". */
export function parseGateSpec(text: string): GateSpec {
  const match = GATE_TEXT.exec(text.trim());
  const limit = match ? Number(match[4]) : NaN;
  if (!match || !Number.isFinite(limit)) {
    throw new Error(
      `"${text}": expected [task.]${VARIANTS.join('|')}.${Object.keys(METRIC_BY_KEY).join('|')}=<number>, e.g. sentiment.int8.top1=0.98`,
    );
  }
  return {
    ...(match[1] ? { task: match[1] } : {}),
    comparison: match[2] as Variant,
    metric: METRIC_BY_KEY[match[3]!]!,
    limit,
  };
}

const variantLimits = z
  .object({
    max_abs: z.number().min(0).optional(),
    top1: z.number().min(0).max(1).optional(),
    accuracy_drop: z.number().min(0).max(1).optional(),
  })
  .strict();
const limitsSchema = z
  .object(
    Object.fromEntries(VARIANTS.map((variant) => [variant, variantLimits.optional()])) as Record<
      Variant,
      z.ZodOptional<typeof variantLimits>
    >,
  )
  .strict();

/** --gates-file: {"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}} (validated). */
const gatesFileSchema = limitsSchema
  .extend({
    tasks: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a task name (letters, digits, "_" or "-")'), limitsSchema)
      .optional(),
  })
  .strict();

export function gateSpecsFromFile(content: unknown): GateSpec[] {
  const parsed = gatesFileSchema.parse(content);
  const specs: GateSpec[] = [];
  const add = (limits: z.infer<typeof limitsSchema>, task?: string) => {
    for (const comparison of VARIANTS) {
      for (const [key, limit] of Object.entries(limits[comparison] ?? {})) {
        if (limit !== undefined)
          specs.push({ ...(task ? { task } : {}), comparison, metric: METRIC_BY_KEY[key]!, limit });
      }
    }
  };
  add(parsed);
  for (const [task, limits] of Object.entries(parsed.tasks ?? {})) add(limits, task);
  return specs;
}

/** Reads a --gates-file (JSON, validated): exit 2 naming the file when it cannot be read or is invalid. */
export function readGatesFile(file: string): GateSpec[] {
  let content: unknown;
  try {
    // fatal: a corrupt byte must not turn a task name into another one silently
    content = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(resolve(file))));
  } catch (error) {
    throw new InputError(`cannot read the gates file: ${(error as Error).message.split('\n')[0]}`, {
      file: resolve(file),
    });
  }
  try {
    return gateSpecsFromFile(content);
  } catch (error) {
    throw new InputError(`invalid gates file${error instanceof ZodError ? ` at ${describeFirstIssue(error)}` : ''}`, {
      file: resolve(file),
      hint: '{"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}}',
    });
  }
}
