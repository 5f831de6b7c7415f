import ort from 'onnxruntime-node';
import { inputFeeds, type TokenizedBatch } from '../../onnx/session.js';

/** Runs a graph with the plan's inputs over batches, handing each batch's named outputs to `onBatch`; stops early when it returns false. */
export async function runBatches(
  file: string,
  batches: readonly TokenizedBatch[],
  outputNames: readonly string[],
  onBatch: (outputs: Record<string, ort.Tensor>, index: number) => boolean | void,
): Promise<void> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    for (const [index, batch] of batches.entries()) {
      if (onBatch(await session.run(inputFeeds(session.inputNames, batch), [...outputNames]), index) === false) break;
    }
  } finally {
    await session.release();
  }
}
