import type { Side } from './settings.js';

/** A padded batch as the graphs take it: int64 [rows, width], row-major. */
export interface EncodedBatch {
  rows: number;
  width: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

/** Pads to the longest sequence of the batch (transformers' padding=True), on the tokenizer's side. */
export function padBatch(sequences: readonly (readonly number[])[], padId: number, side: Side): EncodedBatch {
  const rows = sequences.length;
  const width = sequences.reduce((longest, ids) => Math.max(longest, ids.length), 0);
  const inputIds = new BigInt64Array(rows * width).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(rows * width);
  sequences.forEach((ids, row) => {
    const start = row * width + (side === 'left' ? width - ids.length : 0);
    ids.forEach((id, column) => {
      inputIds[start + column] = BigInt(id);
      attentionMask[start + column] = 1n;
    });
  });
  return { rows, width, inputIds, attentionMask };
}

/** One row of a batch as plain numbers (for messages and JSON). */
export function batchRow(values: BigInt64Array, width: number, row: number): number[] {
  return Array.from(values.subarray(row * width, (row + 1) * width), Number);
}
