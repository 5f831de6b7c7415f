import { z } from 'zod';
import { GATE_METRICS, VARIANTS, type GateMetric } from './variants.js';

/** A gate override (--gate, --gates-file, the library's `gates`, the manifest's recorded options): declared once. */
export const gateSpecSchema = z.object({
  task: z.string().optional(),
  comparison: z.enum(VARIANTS),
  metric: z.enum(Object.keys(GATE_METRICS) as [GateMetric, ...GateMetric[]]),
  limit: z.number().min(0),
});
export type GateSpec = z.infer<typeof gateSpecSchema>;
