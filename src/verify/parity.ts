import type { ComparisonMetrics } from '../metrics/logits.js';
import { ClassifierSession } from '../onnx/session.js';
import { equivalenceInputs, planRuns, type MultiheadGraphs } from './parity-plan.js';
import { ParityResults } from './parity-results.js';
import { runMultihead, runTaskGraph, type MeasuredLogits, type ParityRun } from './parity-runner.js';
import type { StoredBatch } from './stored-batch.js';

export interface CompareOptions {
  onProgress?: (message: string) => void;
  multihead?: MultiheadGraphs;
  /** Task graphs shown bit-identical to their multihead graph report its metrics (see below). */
  shareMultihead?: boolean;
  /** variant -> logits its multihead graph would give on the first batches; used once it gives them bit for bit on measuredCheckBatches. */
  measured?: Record<string, MeasuredLogits>;
}

/**
 * Runs each task's ONNX graphs (onnxruntime-node) on the stored batches and compares them with the
 * stored PyTorch logits: task -> comparison -> metrics. Gold labels come with the batches.
 * The multihead graphs run once per batch; each task's output counts in "multihead-<variant>".
 *
 * With `shareMultihead`, a task's graph of a variant that has a multihead graph runs only on the
 * equivalenceInputs (shortest and longest texts); when its logits there are bit-identical to the
 * multihead graph's output for that task (it is the same subgraph with the same weights), its metrics
 * are the multihead graph's on every text, and say so in `measuredOn`. Otherwise it runs on every batch
 * like any graph. One encoder pass per variant instead of one per task and variant.
 *
 * With `measured` logits for a variant, its multihead graph first runs measuredCheckBatches (the first
 * two and the last of the measured batches); when all are bit-identical to the measured ones, the
 * measured logits stand for the other measured batches (the metrics say so in `measuredOn`), and the
 * graph runs the remaining batches. Otherwise it runs every batch.
 */
export async function compareWithReference(
  batches: readonly StoredBatch[],
  graphs: Record<string, Record<string, string>>,
  options: CompareOptions = {},
): Promise<Record<string, Record<string, ComparisonMetrics>>> {
  const run: ParityRun = {
    batches,
    results: new ParityResults(),
    ...(options.multihead ? { multihead: options.multihead } : {}),
    ...(options.measured ? { measured: options.measured } : {}),
    checkInputs: options.shareMultihead ? equivalenceInputs(batches) : [],
    shared: new Map(),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  for (const graph of planRuns(graphs, options.multihead)) {
    const session = await ClassifierSession.open(graph.file);
    try {
      if (graph.graph === 'multihead') await runMultihead(run, graph.kind, graph.file, session);
      else await runTaskGraph(run, graph.task, graph.kind, session);
    } finally {
      await session.release();
    }
  }
  return run.results.metrics();
}
