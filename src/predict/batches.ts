/**
 * Batches of text indices ordered by token count (longest first), so that each batch pads to a
 * length close to its own texts' and little time goes to padding. Results are written back by index,
 * which restores the input order.
 */
export function lengthSortedBatches(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((_, index) => index).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}
