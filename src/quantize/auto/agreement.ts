import { LogitsComparison, type LogitsBatch } from '../../verify/metrics.js';
import type { TokenizedBatch } from '../../verify/onnx-session.js';
import { runBatches } from './run-graph.js';

export type OutputLogits = Record<string, LogitsBatch[]>;

/** Each named output of a graph over the batches (copied out of ORT's buffers). */
export async function collectLogits(file: string, outputs: Record<string, string>, batches: readonly TokenizedBatch[]): Promise<OutputLogits> {
  const logits: OutputLogits = Object.fromEntries(Object.keys(outputs).map((task) => [task, []]));
  await runBatches(file, batches, Object.values(outputs), (values) => {
    for (const [task, output] of Object.entries(outputs)) {
      const tensor = values[output]!;
      logits[task]!.push({ rows: tensor.dims[0]!, labels: tensor.dims[1] ?? 1, data: Float32Array.from(tensor.data as Float32Array) });
    }
  });
  return logits;
}

/** Top-1 agreement of candidate logits with reference logits, per task. */
export function topOneAgreement(reference: OutputLogits, candidate: OutputLogits): Record<string, number> {
  return Object.fromEntries(
    Object.keys(reference).map((task) => {
      const comparison = new LogitsComparison(0);
      reference[task]!.forEach((batch, index) => comparison.add(batch, candidate[task]![index]!, [], 0));
      return [task, comparison.result().top1Agreement];
    }),
  );
}

/** Top-1 agreement of a candidate graph with a reference graph on the same batches, per output. */
export async function compareOutputs(referenceFile: string, candidateFile: string, outputs: Record<string, string>, batches: readonly TokenizedBatch[]): Promise<Record<string, number>> {
  return topOneAgreement(await collectLogits(referenceFile, outputs, batches), await collectLogits(candidateFile, outputs, batches));
}
