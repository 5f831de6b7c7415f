export interface Prediction {
  label: string;
  /** The softmax probability of the label (the largest of the row), as RapidFit's predict returns it. */
  confidence: number;
}

/** Per row of logits [rows, labels]: the arg-max label and its softmax probability (first one on ties, like argmax). */
export function topPredictions(logits: Float32Array, rows: number, labels: readonly string[]): Prediction[] {
  const width = labels.length;
  if (logits.length !== rows * width)
    throw new Error(`logits have ${logits.length} values, expected ${rows} x ${width}`);
  return Array.from({ length: rows }, (_, row) => {
    const values = logits.subarray(row * width, (row + 1) * width);
    let best = 0;
    for (let column = 1; column < width; column += 1) if (values[column]! > values[best]!) best = column;
    let sum = 0;
    for (const value of values) sum += Math.exp(value - values[best]!);
    return { label: labels[best]!, confidence: 1 / sum };
  });
}
