/** Row-wise helpers over row-major logits. */

export function argmax(values: Float32Array, start: number, length: number): number {
  let best = 0;
  for (let index = 1; index < length; index += 1) {
    if ((values[start + index] ?? -Infinity) > (values[start + best] ?? -Infinity)) best = index;
  }
  return best;
}

export function softmax(values: Float32Array, start: number, length: number): Float64Array {
  let max = -Infinity;
  for (let index = 0; index < length; index += 1) max = Math.max(max, values[start + index]!);
  const out = new Float64Array(length);
  let sum = 0;
  for (let index = 0; index < length; index += 1) {
    out[index] = Math.exp(values[start + index]! - max);
    sum += out[index]!;
  }
  for (let index = 0; index < length; index += 1) out[index]! /= sum;
  return out;
}

/** The gap between the two largest probabilities (1 for a single label). */
export function topTwoMargin(probabilities: Float64Array): number {
  let first = 0;
  let second = 0;
  for (const p of probabilities) {
    if (p > first) {
      second = first;
      first = p;
    } else if (p > second) second = p;
  }
  return first - second;
}
