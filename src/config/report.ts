import { z } from 'zod';

const worstExample = z.object({
  index: z.number().int(),
  text: z.string(),
  maxAbsDiff: z.number().or(z.null()),
  reference: z.number().int(),
  candidate: z.number().int(),
  referenceMargin: z.number().optional(),
  candidateMargin: z.number().optional(),
});

const interval = z.tuple([z.number(), z.number()]);

const metricsSchema = z.object({
  samples: z.number().int(),
  maxAbsDiff: z.number().nullable(),
  meanAbsDiff: z.number(),
  minCosine: z.number(),
  maxSoftmaxDiff: z.number(),
  p95AbsDiff: z.number().optional(),
  top1Agreement: z.number(),
  top1Agreed: z.number().int().optional(),
  top1Interval: interval.optional(),
  confidentAgreement: z.number().optional(),
  confidentSamples: z.number().int().optional(),
  nonFinite: z.number().int(),
  worst: z.array(worstExample),
  flips: z.array(worstExample).optional(),
  marginHistogram: z
    .object({ edges: z.array(z.number()), texts: z.array(z.number().int()), flips: z.array(z.number().int()) })
    .optional(),
  labelled: z.number().int().optional(),
  accuracy: z.number().optional(),
  accuracyInterval: interval.optional(),
  referenceAccuracy: z.number().optional(),
  referenceAccuracyInterval: interval.optional(),
  accuracyDrop: z.number().optional(),
  accuracyDropInterval: interval.optional(),
  /**
   * These metrics are `graph`'s output for the task: this graph gave bit-identical logits on
   * `checkedSamples` texts; with `standInSamples`, only that many of the comparison's texts are
   * `graph`'s logits (the rest this graph ran itself).
   */
  measuredOn: z
    .object({
      graph: z.string(),
      checkedSamples: z.number().int(),
      maxAbsDiff: z.number(),
      standInSamples: z.number().int().optional(),
    })
    .optional(),
});

const gateResultSchema = z.object({
  comparison: z.string(),
  metric: z.string(),
  op: z.enum(['<=', '>=']),
  limit: z.number(),
  value: z.number().nullable(),
  passed: z.boolean(),
  /** Texts the gate was judged on (labelled texts for accuracy_drop). */
  samples: z.number().int().optional(),
  /** `lower-bound`: the value is the pessimistic end of the 95% interval; `point` is the metric itself. */
  on: z.enum(['point', 'lower-bound']).optional(),
  point: z.number().optional(),
  /** Why there is no value: "no labelled texts", NaN/Inf outputs. */
  reason: z.string().optional(),
});
export type GateResult = z.infer<typeof gateResultSchema>;

const latencySchema = z.object({
  batch: z.number().int(),
  sequence: z.number().int(),
  fp32Ms: z.number(),
  int8Ms: z.number().optional(),
  fp16Ms: z.number().optional(),
});

const int8TrialSchema = z.object({
  base: z.string(),
  fallbackNodes: z.number().int(),
  agreement: z.record(z.string(), z.number()),
  passed: z.boolean(),
  /** Texts per task whose top-1 differs from PyTorch's (a lower bound when it stopped early). */
  flips: z.record(z.string(), z.number().int()).optional(),
  /** It disagreed on more texts than the gate allows before the end of the split; its agreement is an upper bound. */
  stoppedEarly: z.boolean().optional(),
});

/** How the INT8 graphs were made and, for auto, what was tried on which texts. */
const int8ReportSchema = z.object({
  mode: z.string(),
  /** The method of most MatMuls, and the nodes kept at higher precision (node -> method). */
  method: z.string(),
  higherPrecision: z.record(z.string(), z.string()),
  calibration: z
    .object({
      samples: z.number().int(),
      seed: z.number().int(),
      target: z.record(z.string(), z.number()),
      /** The most flips the calibration split could show per task: half the gate's allowance, rounded up. */
      targetFlips: z.record(z.string(), z.number().int()).optional(),
      /** What the calibration agreement is measured against: "PyTorch" (export) or "FP32 ONNX" (quantize). */
      against: z.string().optional(),
      /** Top-1 agreement of the chosen graph on the calibration split, per task. */
      agreement: z.record(z.string(), z.number()),
      /** Speed-up over FP32 at batch 1 and the texts' median token count (at 128 tokens before this field's siblings existed). */
      speedupBatch1: z.number().optional(),
      /** The chosen graph's speed at the texts' lengths: batch 1 and the serving batch. */
      speed: z
        .object({
          p50Tokens: z.number().int(),
          p95Tokens: z.number().int(),
          batchSize: z.number().int(),
          points: z.array(
            z.object({
              batch: z.number().int(),
              sequence: z.number().int(),
              speedup: z.number(),
              pairs: z.number().int(),
            }),
          ),
        })
        .optional(),
      trials: z.array(int8TrialSchema),
      candidates: z.array(
        z.object({
          base: z.string(),
          fallbackNodes: z.number().int(),
          speedupBatch1: z.number().optional(),
          passed: z.boolean(),
        }),
      ),
      /** target: a trial reached the calibration target; gate: only the gate's own allowance; none: nothing did. */
      outcome: z.enum(['target', 'gate', 'none']).optional(),
    })
    .optional(),
  judgedSamples: z.number().int(),
  note: z.string().optional(),
});
export type Int8Report = z.infer<typeof int8ReportSchema>;

export const parityReportSchema = z.object({
  schema: z.literal('rapidfit-export/parity-report'),
  schemaVersion: z.literal(1),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  model: z.object({ dir: z.string(), format: z.string() }),
  samples: z.object({
    source: z.string(),
    seed: z.number().int(),
    count: z.number().int(),
    maxLength: z.number().int(),
    /** Texts per split: calibration (chooses INT8), judged (INT8's gate), embedded (robustness probes beside the user's texts). */
    splits: z
      .object({ calibration: z.number().int(), judged: z.number().int(), embedded: z.number().int() })
      .optional(),
    origin: z
      .object({
        embedded: z.number().int(),
        user: z
          .object({
            files: z.array(z.object({ file: z.string(), entries: z.number().int() })),
            texts: z.number().int(),
            merged: z.number().int(),
            labelled: z.number().int(),
          })
          .optional(),
        movedToJudged: z.number().int().optional(),
        leftOut: z.number().int().optional(),
      })
      .optional(),
    /** Why the INT8 verdict may not mean what it says: generic texts only, a judged split too small for its gate. */
    warnings: z.array(z.string()).optional(),
  }),
  environment: z.record(z.string(), z.unknown()),
  tasks: z.array(
    z.object({
      task: z.string(),
      comparisons: z.record(z.string(), metricsSchema),
      gates: z.array(gateResultSchema),
      passed: z.boolean(),
      latency: z.array(latencySchema).optional(),
      /** INT8 graph bytes / FP32 graph bytes (external data included). */
      int8SizeShare: z.number().optional(),
      /** Bytes of each variant's graph (external data included): fp32, int8, fp16. */
      sizes: z.record(z.string(), z.number().int()).optional(),
    }),
  ),
  int8: int8ReportSchema.optional(),
  /** Seconds per step of the run. */
  timings: z.record(z.string(), z.number()).optional(),
  /** Node's peak resident memory (MiB) at the end of each step: where the run's memory grows (bench/samples-scale.mjs). */
  stepPeakRssMiB: z.record(z.string(), z.number()).optional(),
  passed: z.boolean(),
});
export type ParityReport = z.infer<typeof parityReportSchema>;
