import { z } from 'zod';

const worstExample = z.object({
  index: z.number().int(),
  text: z.string(),
  maxAbsDiff: z.number().or(z.null()),
  reference: z.number().int(),
  candidate: z.number().int(),
});

export const metricsSchema = z.object({
  samples: z.number().int(),
  maxAbsDiff: z.number().nullable(),
  meanAbsDiff: z.number(),
  minCosine: z.number(),
  maxSoftmaxDiff: z.number(),
  top1Agreement: z.number(),
  nonFinite: z.number().int(),
  worst: z.array(worstExample),
  labelled: z.number().int().optional(),
  accuracy: z.number().optional(),
  referenceAccuracy: z.number().optional(),
});

export const gateResultSchema = z.object({
  comparison: z.string(),
  metric: z.string(),
  op: z.enum(['<=', '>=']),
  limit: z.number(),
  value: z.number().nullable(),
  passed: z.boolean(),
});
export type GateResult = z.infer<typeof gateResultSchema>;

export const parityReportSchema = z.object({
  schema: z.literal('rapidfit-export/parity-report'),
  schemaVersion: z.literal(1),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  model: z.object({ dir: z.string(), format: z.string() }),
  samples: z.object({ source: z.string(), seed: z.number().int(), count: z.number().int(), maxLength: z.number().int() }),
  environment: z.record(z.string(), z.unknown()),
  tasks: z.array(
    z.object({
      task: z.string(),
      comparisons: z.record(z.string(), metricsSchema),
      gates: z.array(gateResultSchema),
      passed: z.boolean(),
    }),
  ),
  passed: z.boolean(),
});
export type ParityReport = z.infer<typeof parityReportSchema>;
