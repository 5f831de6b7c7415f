import { z } from 'zod';
import { gateSpecSchema } from '../plan/gate-spec.js';
import { quantizeOptionsSchema } from '../quantize/options.js';

export const EXPORTERS = ['torchscript', 'dynamo'] as const;
export const INT8_MODES = ['auto', 'dynamic', 'per-token', 'weight-only', 'weight-only-10', 'weight-only-12'] as const;
export type Int8Mode = (typeof INT8_MODES)[number];

/** Validated options of the main command (`rapidfit-export <model_dir>`). */
export const exportOptionsSchema = z
  .object({
    modelDir: z.string().min(1, 'a model directory is required'),
    outDir: z.string().min(1),
    tasks: z.array(z.string().min(1)).optional(),
    taskName: z.string().min(1).optional(),
    opset: z.number().int().min(14, 'opset must be at least 14').max(23, 'opset must be at most 23'),
    maxLength: z.number().int().min(2).max(8192),
    exporter: z.enum(EXPORTERS),
    fp32Tolerance: z.number().positive().max(1),
    int8Top1: z.number().min(0).max(1),
    quantize: z.enum(['int8', 'none']),
    /** How the INT8 graphs are made: chosen per model on calibration texts (auto), or one method for every MatMul. */
    int8: z.enum(INT8_MODES),
    /** auto: the most candidate graphs built and run on the calibration split. */
    int8Budget: z.number().int().min(2).max(200),
    quantization: quantizeOptionsSchema,
    gates: z.array(gateSpecSchema),
    /** Also write <task>_fp16.onnx (and multihead_fp16.onnx): float16 weights and compute, float32 inputs and outputs. */
    fp16: z.boolean(),
    junit: z.string().optional(),
    samples: z.string().optional(),
    python: z.string().min(1).optional(),
    externalData: z.boolean(),
    force: z.boolean(),
    progress: z.boolean(),
    json: z.boolean(),
    verbose: z.boolean(),
    sampleLimit: z.number().int().positive().optional(),
    /** Measure FP32 and INT8 latency in onnxruntime-node for the report. */
    latency: z.boolean(),
    /**
     * --bridge-timeout: seconds a bridge request may go without any sign of life (answer, progress or
     * the bridge's 2-s heartbeat) before the bridge is declared hung and killed (exit 4); 0 = no limit.
     * Default DEFAULT_BRIDGE_TIMEOUT_SECONDS (src/bridge/client.ts).
     */
    bridgeTimeoutSeconds: z
      .number()
      .min(0, 'the bridge timeout must be 0 (none) or more seconds')
      .max(86_400)
      .optional(),
  })
  .superRefine((options, context) => {
    if (options.exporter === 'dynamo' && options.opset < 18) {
      context.addIssue({
        code: 'custom',
        path: ['opset'],
        message: 'the dynamo exporter needs --opset 18 or newer',
      });
    }
  });
export type ExportOptions = z.infer<typeof exportOptionsSchema>;

export const DEFAULTS = {
  opset: 17,
  maxLength: 128,
  exporter: 'torchscript' as const,
  fp32Tolerance: 1e-4,
  int8Top1: 0.99,
  int8: 'auto' as Int8Mode,
  int8Budget: 16,
};

/** One line per zod issue: "--opset: opset must be at least 14". */
/** zod's first problem as "path: message" ("top level" when the whole value is wrong), for files we read. */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'top level'}: ${issue.message}`;
}

export function describeZodError(error: z.ZodError, flagNames: Record<string, string> = {}): string {
  return error.issues
    .map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = flagNames[key] ?? (key ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'options');
      return `${flag}: ${issue.message}`;
    })
    .join('; ');
}
