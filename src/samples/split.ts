import { shuffled } from './order.js';

/** A stratum of a text: its gold labels ("" when it has none), so each label keeps its share in each split. */
export function stratumOf(labels: Record<string, number> | undefined): string {
  if (!labels) return '';
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([task, label]) => `${task}=${label}`)
    .join('&');
}

/** Indices by stratum, each in the seeded order; strata in key order. */
function strataOf(order: readonly number[], keys: readonly string[]): number[][] {
  const strata = new Map<string, number[]>();
  for (const index of order) {
    const key = keys[index]!;
    const stratum = strata.get(key);
    if (stratum) stratum.push(index);
    else strata.set(key, [index]);
  }
  return [...strata.keys()].sort().map((key) => strata.get(key)!);
}

/**
 * Two disjoint halves of `keys.length` items, seeded and stratified: each stratum is cut in two (an odd
 * one's extra item alternating between the halves, so the halves differ by at most one), in the seeded
 * order. With one stratum this is the seeded order cut at floor(n / 2).
 */
export function stratifiedHalves(keys: readonly string[], seed: number): { first: number[]; second: number[] } {
  const order = shuffled(
    keys.map((_, index) => index),
    seed,
  );
  const inFirst = new Set<number>();
  let extraToFirst = false;
  for (const stratum of strataOf(order, keys)) {
    let take = Math.floor(stratum.length / 2);
    if (stratum.length % 2 === 1) {
      if (extraToFirst) take += 1;
      extraToFirst = !extraToFirst;
    }
    for (const index of stratum.slice(0, take)) inFirst.add(index);
  }
  return { first: order.filter((index) => inFirst.has(index)), second: order.filter((index) => !inFirst.has(index)) };
}

/**
 * At most `cap` of `indices`, each stratum keeping its share (largest remainders, seeded order within
 * a stratum); the others are returned apart. Order of `indices` is kept.
 */
export function stratifiedSubsample(
  indices: readonly number[],
  keys: readonly string[],
  cap: number,
): { kept: number[]; dropped: number[] } {
  if (indices.length <= cap) return { kept: [...indices], dropped: [] };
  const strata = strataOf(indices, keys);
  const quotas = strata.map((stratum) => (stratum.length * cap) / indices.length);
  const counts = quotas.map(Math.floor);
  const byRemainder = quotas.map((quota, index) => ({ index, remainder: quota - Math.floor(quota) }));
  byRemainder.sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder.slice(0, cap - counts.reduce((sum, count) => sum + count, 0)))
    counts[index]! += 1;
  const kept = new Set(strata.flatMap((stratum, index) => stratum.slice(0, counts[index])));
  return { kept: indices.filter((index) => kept.has(index)), dropped: indices.filter((index) => !kept.has(index)) };
}
