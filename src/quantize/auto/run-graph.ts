import ort from 'onnxruntime-node';
import type { TokenizedBatch } from '../../verify/onnx-session.js';

/** Runs a graph with input_ids/attention_mask inputs over batches, handing each batch's named outputs to `onBatch`. */
export async function runBatches(
  file: string,
  batches: readonly TokenizedBatch[],
  outputNames: readonly string[],
  onBatch: (outputs: Record<string, ort.Tensor>, index: number) => void,
): Promise<void> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    for (const [index, batch] of batches.entries()) {
      const feeds: Record<string, ort.Tensor> = {};
      if (session.inputNames.includes('input_ids')) feeds.input_ids = new ort.Tensor('int64', batch.inputIds.data, batch.inputIds.shape);
      if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', batch.attentionMask.data, batch.attentionMask.shape);
      onBatch(await session.run(feeds, [...outputNames]), index);
    }
  } finally {
    await session.release();
  }
}
