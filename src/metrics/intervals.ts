/**
 * 95% intervals for the proportions the gates judge: Wilson's score interval for one proportion
 * (agreement, accuracy) and Newcombe's hybrid score interval (his method 10, 1998) for the difference
 * of two paired proportions (the accuracy drop of INT8 against PyTorch on the same texts).
 */

/** The normal quantile of a two-sided 95% interval. */
const Z95 = 1.959963984540054;

export type Interval = [low: number, high: number];

/** Wilson's score interval of `successes` out of `total` ([0, 1] when total is 0). */
export function wilson(successes: number, total: number, z: number = Z95): Interval {
  if (total <= 0) return [0, 1];
  const p = successes / total;
  const z2 = z * z;
  const centre = p + z2 / (2 * total);
  const spread = z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total));
  const denominator = 1 + z2 / total;
  const clamp = (value: number) => Math.min(1, Math.max(0, value));
  // exact ends: no flip gives an upper bound of 1, every flip a lower bound of 0
  return [
    successes === 0 ? 0 : clamp((centre - spread) / denominator),
    successes === total ? 1 : clamp((centre + spread) / denominator),
  ];
}

/**
 * Paired outcomes on the same texts: both right, only the first right, only the second right, neither.
 * (For accuracy: first = PyTorch, second = the ONNX graph.)
 */
export interface PairedCounts {
  both: number;
  firstOnly: number;
  secondOnly: number;
  neither: number;
}

/**
 * The difference p1 - p2 of two paired proportions (p1 = first right, p2 = second right) with
 * Newcombe's hybrid score interval, which keeps its coverage near 95% for small counts and
 * proportions near 1, where Wald's interval does not.
 */
export function pairedDifference(counts: PairedCounts, z: number = Z95): { value: number; interval: Interval } {
  const { both: a, firstOnly: b, secondOnly: c, neither: d } = counts;
  const n = a + b + c + d;
  if (n === 0) return { value: 0, interval: [-1, 1] };
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const [l1, u1] = wilson(a + b, n, z);
  const [l2, u2] = wilson(a + c, n, z);
  const denominator = Math.sqrt((a + b) * (c + d) * (a + c) * (b + d));
  // the correlation of the two outcomes; 0 when a margin is empty (Newcombe's convention)
  const phi = denominator === 0 ? 0 : (a * d - b * c) / denominator;
  const value = p1 - p2;
  const low = value - Math.sqrt(Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2));
  const high = value + Math.sqrt(Math.max(0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2));
  return { value, interval: [Math.max(-1, low), Math.min(1, high)] };
}

/** Both sides' accuracy on the same labelled texts, each with its Wilson interval, and the paired drop (first - second). */
export interface PairedAccuracy {
  labelled: number;
  first: number;
  firstInterval: Interval;
  second: number;
  secondInterval: Interval;
  drop: number;
  dropInterval: Interval;
}

/** undefined when no text is labelled. */
export function pairedAccuracy(counts: PairedCounts): PairedAccuracy | undefined {
  const { both, firstOnly, secondOnly, neither } = counts;
  const labelled = both + firstOnly + secondOnly + neither;
  if (labelled === 0) return undefined;
  const drop = pairedDifference(counts);
  return {
    labelled,
    first: (both + firstOnly) / labelled,
    firstInterval: wilson(both + firstOnly, labelled),
    second: (both + secondOnly) / labelled,
    secondInterval: wilson(both + secondOnly, labelled),
    drop: drop.value,
    dropInterval: drop.interval,
  };
}
