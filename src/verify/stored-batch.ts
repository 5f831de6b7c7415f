import type { StoredBatch as VerificationBatch } from '../config/verification.js';
import type { LogitsBatch } from '../metrics/logits.js';
import type { TokenizedBatch } from '../onnx/session.js';

/** What `rapidfit-export verify` needs to re-run the comparison without Python: inputs and PyTorch logits (verification.json's batches). */
export type StoredBatch = VerificationBatch;

/** The token rows of a batch (what a graph is fed). */
export type TokenRows = Pick<StoredBatch, 'inputIds' | 'attentionMask'>;

export function tokenizedBatch(batch: TokenRows): TokenizedBatch {
  const shape = [batch.inputIds.length, batch.inputIds[0]?.length ?? 0];
  const toTensor = (values: number[][]) => ({
    dtype: 'int64' as const,
    shape,
    data: BigInt64Array.from(values.flat().map(BigInt)),
  });
  return { inputIds: toTensor(batch.inputIds), attentionMask: toTensor(batch.attentionMask) };
}

/** PyTorch's logits of one task in a stored batch. */
export function referenceLogits(batch: StoredBatch, task: string): LogitsBatch {
  const reference = batch.reference[task];
  if (!reference) throw new Error(`no reference logits for task "${task}"`);
  return { rows: reference.length, labels: reference[0]?.length ?? 0, data: Float32Array.from(reference.flat()) };
}

/** The largest absolute difference of two graphs' logits (Infinity when shapes differ or a value is NaN). */
export function maxDifference(a: LogitsBatch, b: LogitsBatch): number {
  if (a.data.length !== b.data.length) return Infinity;
  let max = 0;
  for (let index = 0; index < a.data.length; index += 1) max = Math.max(max, Math.abs(a.data[index]! - b.data[index]!));
  return Number.isNaN(max) ? Infinity : max;
}
