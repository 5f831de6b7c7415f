/** Logits of one task for a batch: row-major [rows, labels]. */
export interface LogitsBatch {
  rows: number;
  labels: number;
  data: Float32Array;
}

export interface WorstExample {
  index: number;
  text: string;
  maxAbsDiff: number;
  reference: number;
  candidate: number;
}

export interface ComparisonMetrics {
  samples: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  minCosine: number;
  maxSoftmaxDiff: number;
  top1Agreement: number;
  /** Informational: top-1 agreement on the samples where the reference's top-2 softmax margin is >= 0.1 (tells near-ties from damage). */
  confidentAgreement?: number;
  confidentSamples?: number;
  nonFinite: number;
  worst: WorstExample[];
  /** With gold labels: accuracy of the candidate and of the reference on the labelled samples. */
  labelled?: number;
  accuracy?: number;
  referenceAccuracy?: number;
  /** Set when these metrics are another graph's output for the task, shown bit-identical on `checkedSamples` texts (see compareWithReference). */
  /**
   * Where some or all of these logits come from another graph: it gave bit-identical logits on
   * `checkedSamples` texts; `standInSamples` of the comparison's texts are its logits (absent: all).
   */
  measuredOn?: { graph: string; checkedSamples: number; maxAbsDiff: number; standInSamples?: number };
}

function argmax(values: Float32Array, start: number, length: number): number {
  let best = 0;
  for (let index = 1; index < length; index += 1) {
    if ((values[start + index] ?? -Infinity) > (values[start + best] ?? -Infinity)) best = index;
  }
  return best;
}

function softmax(values: Float32Array, start: number, length: number): Float64Array {
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

/** Reference probabilities closer than this at the top are near-ties: a flip there is not damage. */
export const CONFIDENT_MARGIN = 0.1;

function topTwoMargin(probabilities: Float64Array): number {
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

/** Accumulates the comparison of candidate logits (ONNX) with reference logits (PyTorch) over batches. */
export class LogitsComparison {
  private samples = 0;
  private maxAbs = 0;
  private sumAbs = 0;
  private values = 0;
  private minCos = 1;
  private maxSoftmax = 0;
  private agree = 0;
  private confident = 0;
  private confidentAgree = 0;
  private nonFinite = 0;
  private readonly perExample: WorstExample[] = [];
  private labelled = 0;
  private correct = 0;
  private referenceCorrect = 0;

  constructor(private readonly keepWorst = 5) {}

  add(
    reference: LogitsBatch,
    candidate: LogitsBatch,
    texts: string[],
    firstIndex: number,
    gold?: Array<number | undefined>,
  ): void {
    if (reference.rows !== candidate.rows || reference.labels !== candidate.labels) {
      throw new Error(
        `logits shapes differ: reference [${reference.rows}, ${reference.labels}], candidate [${candidate.rows}, ${candidate.labels}]`,
      );
    }
    const width = reference.labels;
    for (let row = 0; row < reference.rows; row += 1) {
      const start = row * width;
      let rowMax = 0;
      let dot = 0;
      let normRef = 0;
      let normCand = 0;
      let finite = true;
      for (let col = 0; col < width; col += 1) {
        const r = reference.data[start + col]!;
        const c = candidate.data[start + col]!;
        if (!Number.isFinite(c)) {
          finite = false;
          continue;
        }
        const diff = Math.abs(r - c);
        rowMax = Math.max(rowMax, diff);
        this.sumAbs += diff;
        this.values += 1;
        dot += r * c;
        normRef += r * r;
        normCand += c * c;
      }
      if (!finite) this.nonFinite += 1;
      const cosine =
        normRef === 0 || normCand === 0 ? (normRef === normCand ? 1 : 0) : dot / Math.sqrt(normRef * normCand);
      this.minCos = Math.min(this.minCos, finite ? cosine : 0);
      const pr = softmax(reference.data, start, width);
      const pc = softmax(candidate.data, start, width);
      for (let col = 0; col < width; col += 1)
        this.maxSoftmax = Math.max(this.maxSoftmax, Math.abs(pr[col]! - pc[col]!));
      const top = argmax(reference.data, start, width);
      const candidateTop = argmax(candidate.data, start, width);
      if (top === candidateTop && finite) this.agree += 1;
      if (topTwoMargin(pr) >= CONFIDENT_MARGIN) {
        this.confident += 1;
        if (top === candidateTop && finite) this.confidentAgree += 1;
      }
      const label = gold?.[row];
      if (label !== undefined) {
        this.labelled += 1;
        if (candidateTop === label && finite) this.correct += 1;
        if (top === label) this.referenceCorrect += 1;
      }
      this.maxAbs = Math.max(this.maxAbs, finite ? rowMax : Infinity);
      this.samples += 1;
      this.perExample.push({
        index: firstIndex + row,
        text: texts[row] ?? '',
        maxAbsDiff: finite ? rowMax : Infinity,
        reference: top,
        candidate: candidateTop,
      });
      this.perExample.sort((a, b) => b.maxAbsDiff - a.maxAbsDiff);
      if (this.perExample.length > this.keepWorst) this.perExample.length = this.keepWorst;
    }
  }

  result(): ComparisonMetrics {
    return {
      samples: this.samples,
      maxAbsDiff: this.maxAbs,
      meanAbsDiff: this.values === 0 ? 0 : this.sumAbs / this.values,
      minCosine: this.minCos,
      maxSoftmaxDiff: this.maxSoftmax,
      top1Agreement: this.samples === 0 ? 0 : this.agree / this.samples,
      ...(this.confident > 0
        ? { confidentAgreement: this.confidentAgree / this.confident, confidentSamples: this.confident }
        : {}),
      nonFinite: this.nonFinite,
      worst: [...this.perExample],
      ...(this.labelled > 0
        ? {
            labelled: this.labelled,
            accuracy: this.correct / this.labelled,
            referenceAccuracy: this.referenceCorrect / this.labelled,
          }
        : {}),
    };
  }
}
