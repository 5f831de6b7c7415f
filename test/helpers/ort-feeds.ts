import ort from 'onnxruntime-node';

/** A stored verification batch's token ids as onnxruntime-node feeds (the graphs' two int64 inputs). */
export function feeds(batch: { inputIds: number[][]; attentionMask: number[][] }): Record<string, ort.Tensor> {
  const shape = [batch.inputIds.length, batch.inputIds[0]!.length];
  return {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(batch.inputIds.flat().map(BigInt)), shape),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(batch.attentionMask.flat().map(BigInt)), shape),
  };
}
