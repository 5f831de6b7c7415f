import ort from 'onnxruntime-node';
import { inputFeeds, type TokenizedBatch } from '../../verify/onnx-session.js';

/** Runs a graph with the plan's inputs over batches, handing each batch's named outputs to `onBatch`. */
export async function runBatches(
  file: string,
  batches: readonly TokenizedBatch[],
  outputNames: readonly string[],
  onBatch: (outputs: Record<string, ort.Tensor>, index: number) => void,
): Promise<void> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    for (const [index, batch] of batches.entries()) {
      onBatch(await session.run(inputFeeds(session.inputNames, batch), [...outputNames]), index);
    }
  } finally {
    await session.release();
  }
}
