import type { BridgeSession, EarlyBridge } from '../bridge/session.js';
import type { Manifest } from '../config/manifest.js';
import type { ModelSpec } from '../config/model-spec.js';
import type { ExportOptions } from '../options/export.js';
import type { ParityReport } from '../config/report.js';
import type { ModelFormat } from '../export/model-dir.js';
import type { Variant } from '../plan/variants.js';
import type { ComparisonMetrics } from '../metrics/logits.js';
import type { StoredBatch } from '../verify/stored-batch.js';
import type { SampleSet } from '../verify/samples.js';
import type { Int8StepResult } from './int8-step.js';
import type { TaskLatency } from './latency-step.js';

export interface ExportResult {
  /**
   * @deprecated Always equals `verified`. Kept because the README documents it and `export --json` prints it
   * (every command's JSON output starts with `ok`).
   */
  ok: boolean;
  outDir: string;
  verified: boolean;
  tasks: string[];
  files: Manifest['files'];
  parity: Array<{
    task: string;
    fp32MaxAbsDiff: number | null;
    int8Top1Agreement: number | null;
    fp16MaxAbsDiff?: number | null;
    passed: boolean;
  }>;
  timings: Record<string, number>;
  /** One line about the INT8 choice (speed goal missed, or no candidate passed the calibration split). */
  int8Note?: string;
  /** What the INT8 verdict rests on, when it may not mean what it says (generic texts only, a small judged split). */
  warnings?: string[];
  unverifiedDir?: string;
}

/** One graph of the bundle, in the staging dir: its file and, when its weights are outside the protobuf, their file name. */
export interface GraphFile {
  file: string;
  weights?: string;
}

/** The graphs of one model graph (a task's, or the multihead graph), by variant. */
export type VariantGraphs = Partial<Record<Variant, GraphFile>>;

/** What the export steps read and write, in the order they fill it. */
export interface ExportContext {
  options: ExportOptions;
  modelDir: string;
  format: ModelFormat;
  outDir: string;
  /** Releases this run's claim on the output directory (src/bundle/output-lock.ts). */
  releaseOutput?: () => Promise<void>;
  /** The bridge started before the pipeline loaded (src/export-run.ts), when its venv was installed. */
  earlyBridge?: EarlyBridge;
  bridge?: BridgeSession;
  /** The bridge's shutdown, started once PyTorch's part is done (Python's teardown overlaps the INT8 work). */
  bridgeClosing?: Promise<void>;
  spec?: ModelSpec;
  tasks: string[];
  staging?: string;
  workDir?: string;
  /** The exported multihead graph in the work dir and each task's output in it (INT8's choice runs on it). */
  exportedMultihead?: { file: string; outputs: Record<string, string> };
  /** task -> variant -> graph in the staging dir. */
  graphs: Record<string, VariantGraphs>;
  /** multihead.onnx and its variants (bundles with two or more tasks). */
  multihead?: VariantGraphs;
  samples?: SampleSet;
  /** Token counts of every sample (the saved tokenizer, in Node), in the samples' order: where INT8's speed is measured. */
  tokenLengths?: number[];
  reference?: StoredBatch[];
  int8?: Int8StepResult;
  /** task -> comparison ("fp32", "int8", "multihead-fp16", ...) -> metrics. */
  comparisons?: Record<string, Record<string, ComparisonMetrics>>;
  latency?: Record<string, TaskLatency[]>;
  report?: ParityReport;
  timings: Record<string, number>;
  /** Node's peak RSS in MiB when each timed step ended. */
  stepPeakRssMiB: Record<string, number>;
  result?: ExportResult;
}

/** One step of the export: one job over the context. `timing` names it in the report's timings. */
export interface Step {
  title: string;
  timing?: string;
  enabled?: (context: ExportContext) => boolean;
  run: (context: ExportContext, task: { output: string; title: string }) => Promise<void>;
}

/** task -> variant -> graph file, as the comparison and latency code take them. */
export function graphFiles(graphs: Record<string, VariantGraphs>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(graphs).map(([task, variants]) => [
      task,
      Object.fromEntries(Object.entries(variants).map(([variant, graph]) => [variant, graph.file])),
    ]),
  );
}
