import type { GateResult, ParityReport } from '../../src/config/report.js';

type Metrics = ParityReport['tasks'][number]['comparisons'][string];
type Example = Metrics['worst'][number];

/** Comparison metrics as the pipeline writes them; `overrides` changes what a test is about. */
function sampleMetrics(overrides: Partial<Metrics> = {}): Metrics {
  const samples = overrides.samples ?? 200;
  const agreement = overrides.top1Agreement ?? 1;
  return {
    samples,
    maxAbsDiff: 2e-6,
    meanAbsDiff: 3e-7,
    minCosine: 0.99999,
    maxSoftmaxDiff: 5e-7,
    top1Agreement: agreement,
    top1Agreed: Math.round(agreement * samples),
    top1Interval: [0.981, 1],
    nonFinite: 0,
    worst: [
      {
        index: 7,
        text: 'The airline made me angry.',
        maxAbsDiff: 2e-6,
        reference: 0,
        candidate: 0,
        referenceMargin: 0.9,
        candidateMargin: 0.9,
      },
    ],
    flips: [],
    marginHistogram: { edges: [0, 0.25, 0.5, 0.75, 1], texts: [10, 20, 30, 140], flips: [0, 0, 0, 0] },
    labelled: 50,
    accuracy: 0.96,
    ...overrides,
  };
}

function sampleGate(comparison: string, metric: string, value: number, limit: number, samples = 200): GateResult {
  const op = metric === 'top1Agreement' ? '>=' : '<=';
  const passed = op === '>=' ? value >= limit : value <= limit;
  return { comparison, metric, op, limit, value, passed, samples };
}

export const flip = (index: number, text: string): Example => ({
  index,
  text,
  maxAbsDiff: 0.04,
  reference: 1,
  candidate: 0,
  referenceMargin: 0.02,
  candidateMargin: 0.01,
});

function sampleTask(task: string, int8: Partial<Metrics>, fp32: Partial<Metrics>): ParityReport['tasks'][number] {
  const fp32Metrics = sampleMetrics(fp32);
  const int8Metrics = sampleMetrics({ maxAbsDiff: 0.012, meanAbsDiff: 0.003, top1Interval: [0.97, 1], ...int8 });
  const gates = [
    sampleGate('fp32', 'maxAbsDiff', fp32Metrics.maxAbsDiff!, 1e-4),
    sampleGate('int8', 'top1Agreement', int8Metrics.top1Agreement, 0.99, int8Metrics.samples),
    sampleGate('multihead-fp32', 'maxAbsDiff', fp32Metrics.maxAbsDiff!, 1e-4),
    sampleGate('multihead-int8', 'top1Agreement', int8Metrics.top1Agreement, 0.99, int8Metrics.samples),
  ];
  return {
    task,
    comparisons: {
      fp32: fp32Metrics,
      'int8-calibration': sampleMetrics({ maxAbsDiff: 0.011 }),
      int8: int8Metrics,
      'multihead-fp32': fp32Metrics,
      'multihead-int8': int8Metrics,
    },
    gates,
    passed: gates.every((gate) => gate.passed),
    int8SizeShare: 0.29,
    sizes: { fp32: 91_000_000, int8: 26_600_000 },
  };
}

export interface SampleOptions {
  /** INT8 metrics of the second task (spam): a flip or a failing agreement. */
  spamInt8?: Partial<Metrics>;
  fp32?: Partial<Metrics>;
  latency?: boolean;
  warnings?: string[];
}

/** A two-task INT8-auto report shaped like the demo's (sentiment, spam), passing unless told otherwise. */
export function sampleReport(options: SampleOptions = {}): ParityReport {
  const tasks = [
    sampleTask('sentiment', {}, options.fp32 ?? {}),
    sampleTask('spam', options.spamInt8 ?? {}, options.fp32 ?? {}),
  ];
  if (options.latency) for (const task of tasks) task.latency = [{ batch: 1, sequence: 128, fp32Ms: 20, int8Ms: 10 }];
  const layerNode = (layer: number, part: string) => `/encoder/encoder/layer.${layer}/${part}/MatMul`;
  return {
    schema: 'rapidfit-export/parity-report',
    schemaVersion: 1,
    createdAt: '2026-01-02T03:04:05.000Z',
    tool: { name: 'rapidfit-export', version: '0.1.0' },
    model: { dir: '/models/demo-3task', format: 'rapidfit' },
    samples: {
      source: 'validation.json (300) + 213 embedded',
      seed: 1,
      count: 600,
      maxLength: 128,
      splits: { calibration: 200, judged: 200, embedded: 200 },
      origin: {
        embedded: 213,
        user: { files: [{ file: 'validation.json', entries: 300 }], texts: 300, merged: 0, labelled: 100 },
      },
      ...(options.warnings ? { warnings: options.warnings } : {}),
    },
    environment: {},
    tasks,
    int8: {
      mode: 'auto',
      method: 'dynamic',
      higherPrecision: {
        [layerNode(0, 'attention/self/query')]: 'weight-only-10',
        [layerNode(1, 'attention/self/query')]: 'weight-only-10',
        [layerNode(1, 'intermediate/dense')]: 'weight-only-12',
        [layerNode(1, 'output/dense')]: 'weight-only-12',
        [layerNode(1, 'attention/output/dense')]: 'weight-only-12',
        '/spam/spam.0/Gemm_MatMul': 'weight-only-10',
      },
      calibration: {
        samples: 200,
        seed: 1,
        target: { sentiment: 0.995, spam: 0.995 },
        agreement: { sentiment: 1, spam: 0.995 },
        speedupBatch1: 1.4,
        trials: [
          {
            base: 'dynamic',
            fallbackNodes: 0,
            agreement: { sentiment: 1, spam: 0.98 },
            passed: false,
            stoppedEarly: true,
          },
          { base: 'dynamic', fallbackNodes: 6, agreement: { sentiment: 1, spam: 0.995 }, passed: true },
        ],
        candidates: [{ base: 'dynamic', fallbackNodes: 6, speedupBatch1: 1.4, passed: true }],
        outcome: 'target',
      },
      judgedSamples: 200,
    },
    passed: tasks.every((task) => task.passed),
  };
}
