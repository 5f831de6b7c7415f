import { LogitsComparison, type LogitsBatch } from '../../metrics/logits.js';
import type { TokenizedBatch } from '../../onnx/session.js';
import { runBatches } from './run-graph.js';

export type OutputLogits = Record<string, LogitsBatch[]>;

/** Each named output of a graph over the batches (copied out of ORT's buffers). */
export async function collectLogits(
  file: string,
  outputs: Record<string, string>,
  batches: readonly TokenizedBatch[],
): Promise<OutputLogits> {
  const logits: OutputLogits = Object.fromEntries(Object.keys(outputs).map((task) => [task, []]));
  await runBatches(file, batches, Object.values(outputs), (values) => {
    for (const [task, output] of Object.entries(outputs)) logits[task]!.push(copyLogits(values[output]!));
  });
  return logits;
}

export function copyLogits(tensor: { dims: readonly number[]; data: unknown }): LogitsBatch {
  return { rows: tensor.dims[0]!, labels: tensor.dims[1] ?? 1, data: Float32Array.from(tensor.data as Float32Array) };
}

/** Top-1 agreement of candidate logits with reference logits, per task. */
function topOneAgreement(reference: OutputLogits, candidate: OutputLogits): Record<string, number> {
  return Object.fromEntries(
    Object.keys(reference).map((task) => {
      const comparison = new LogitsComparison(0);
      reference[task]!.forEach((batch, index) => comparison.add(batch, candidate[task]![index]!, [], 0));
      return [task, comparison.result().top1Agreement];
    }),
  );
}

export interface BoundedAgreement {
  /** Top-1 agreement per task; an upper bound when `complete` is false. */
  agreement: Record<string, number>;
  /** Texts per task whose top-1 differs from the reference's (so far, when the run stopped). */
  flips: Record<string, number>;
  /** False when the run stopped because a task passed its allowed disagreements. */
  complete: boolean;
  /** The graph's logits per task and batch, when complete. */
  logits?: OutputLogits;
}

/**
 * Top-1 agreement of a graph's outputs with reference logits on the same batches, batch by batch. A
 * graph that already disagrees on more rows of some task than `maxFlips` allows cannot pass, so the run
 * stops there (a failing trial costs a fraction of a pass) and the agreement is the best it could reach.
 */
export async function agreementWithin(
  file: string,
  outputs: Record<string, string>,
  batches: readonly TokenizedBatch[],
  reference: OutputLogits,
  maxFlips: Record<string, number>,
): Promise<BoundedAgreement> {
  const total = batches.reduce((sum, batch) => sum + batch.inputIds.shape[0]!, 0);
  const comparisons = Object.fromEntries(Object.keys(outputs).map((task) => [task, new LogitsComparison(0)]));
  const logits: OutputLogits = Object.fromEntries(Object.keys(outputs).map((task) => [task, []]));
  const flips = (task: string) => comparisons[task]!.disagreements();
  let complete = true;
  await runBatches(file, batches, Object.values(outputs), (values, index) => {
    for (const [task, output] of Object.entries(outputs)) {
      const candidate = copyLogits(values[output]!);
      logits[task]!.push(candidate);
      comparisons[task]!.add(reference[task]![index]!, candidate, [], 0);
    }
    if (Object.keys(outputs).some((task) => flips(task) > maxFlips[task]!)) {
      complete = index === batches.length - 1;
      return complete;
    }
    return true;
  });
  return {
    agreement: Object.fromEntries(
      Object.keys(outputs).map((task) => [task, total === 0 ? 0 : (total - flips(task)) / total]),
    ),
    flips: Object.fromEntries(Object.keys(outputs).map((task) => [task, flips(task)])),
    complete,
    ...(complete ? { logits } : {}),
  };
}

/** Top-1 agreement of a candidate graph with a reference graph on the same batches, per output. */
export async function compareOutputs(
  referenceFile: string,
  candidateFile: string,
  outputs: Record<string, string>,
  batches: readonly TokenizedBatch[],
): Promise<Record<string, number>> {
  return topOneAgreement(
    await collectLogits(referenceFile, outputs, batches),
    await collectLogits(candidateFile, outputs, batches),
  );
}
