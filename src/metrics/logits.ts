import { LogBins, MarginHistogram } from './histograms.js';
import { pairedAccuracy, wilson, type Interval, type PairedCounts } from './intervals.js';
import { argmax, softmax, topTwoMargin } from './softmax.js';

/** Logits of one task for a batch: row-major [rows, labels]. */
export interface LogitsBatch {
  rows: number;
  labels: number;
  data: Float32Array;
}

interface WorstExample {
  index: number;
  text: string;
  maxAbsDiff: number;
  reference: number;
  candidate: number;
  /** Top-2 softmax margins of the reference's and the candidate's prediction. */
  referenceMargin?: number;
  candidateMargin?: number;
}

export interface ComparisonMetrics {
  samples: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  minCosine: number;
  maxSoftmaxDiff: number;
  /** About 95% of the texts differ by at most this (max abs logit diff per text, binned: within 26%). */
  p95AbsDiff?: number;
  top1Agreement: number;
  /** Texts with the same top-1 as the reference, and the 95% (Wilson) interval of the agreement. */
  top1Agreed?: number;
  top1Interval?: Interval;
  /** Informational: top-1 agreement on the samples where the reference's top-2 softmax margin is >= 0.1 (tells near-ties from damage). */
  confidentAgreement?: number;
  confidentSamples?: number;
  nonFinite: number;
  worst: WorstExample[];
  /** Texts whose top-1 differs from the reference's, the most confident reference first. */
  flips?: WorstExample[];
  /** The reference's top-2 margins in 20 bins of [0, 1]: texts and flips per bin. */
  marginHistogram?: { edges: number[]; texts: number[]; flips: number[] };
  /** With gold labels: accuracy of the candidate and of the reference on the labelled samples. */
  labelled?: number;
  accuracy?: number;
  accuracyInterval?: Interval;
  referenceAccuracy?: number;
  referenceAccuracyInterval?: Interval;
  /** Reference accuracy - candidate accuracy on the same texts, with Newcombe's paired 95% interval. */
  accuracyDrop?: number;
  accuracyDropInterval?: Interval;
  /**
   * Where some or all of these logits come from another graph: it gave bit-identical logits on
   * `checkedSamples` texts; `standInSamples` of the comparison's texts are its logits (absent: all).
   */
  measuredOn?: { graph: string; checkedSamples: number; maxAbsDiff: number; standInSamples?: number };
}

/** Reference probabilities closer than this at the top are near-ties: a flip there is not damage. */
const CONFIDENT_MARGIN = 0.1;

/** One compared row: what the aggregates and the example lists need. */
interface Row {
  index: number;
  text: string;
  maxAbsDiff: number;
  reference: number;
  candidate: number;
  referenceMargin: number;
  candidateMargin: number;
  finite: boolean;
}

/** Keeps the `limit` largest rows by `key` (ties: the earlier row). */
function keepLargest(list: Row[], row: Row, limit: number, key: (row: Row) => number): void {
  if (limit <= 0) return;
  if (list.length === limit && key(list[list.length - 1]!) >= key(row)) return;
  list.push(row);
  list.sort((a, b) => key(b) - key(a));
  if (list.length > limit) list.length = limit;
}

const example = ({ index, text, maxAbsDiff, reference, candidate, referenceMargin, candidateMargin }: Row) => ({
  index,
  text,
  maxAbsDiff,
  reference,
  candidate,
  referenceMargin,
  candidateMargin,
});

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
  private readonly worst: Row[] = [];
  private readonly flipped: Row[] = [];
  private readonly margins = new MarginHistogram();
  private readonly rowDiffs = new LogBins();
  private readonly paired: PairedCounts = { both: 0, firstOnly: 0, secondOnly: 0, neither: 0 };

  constructor(private readonly keepWorst = 5) {}

  /** Texts whose top-1 differs from the reference's so far. */
  disagreements(): number {
    return this.samples - this.agree;
  }

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
    for (let row = 0; row < reference.rows; row += 1) {
      const compared = this.compareRow(reference, candidate, row, firstIndex + row, texts[row] ?? '');
      this.count(compared, gold?.[row]);
    }
  }

  private compareRow(reference: LogitsBatch, candidate: LogitsBatch, row: number, index: number, text: string): Row {
    const width = reference.labels;
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
    const cosine =
      normRef === 0 || normCand === 0 ? (normRef === normCand ? 1 : 0) : dot / Math.sqrt(normRef * normCand);
    this.minCos = Math.min(this.minCos, finite ? cosine : 0);
    const pr = softmax(reference.data, start, width);
    const pc = softmax(candidate.data, start, width);
    for (let col = 0; col < width; col += 1) this.maxSoftmax = Math.max(this.maxSoftmax, Math.abs(pr[col]! - pc[col]!));
    return {
      index,
      text,
      maxAbsDiff: finite ? rowMax : Infinity,
      reference: argmax(reference.data, start, width),
      candidate: argmax(candidate.data, start, width),
      referenceMargin: topTwoMargin(pr),
      candidateMargin: finite ? topTwoMargin(pc) : 0,
      finite,
    };
  }

  private count(row: Row, label: number | undefined): void {
    const agrees = row.reference === row.candidate && row.finite;
    if (!row.finite) this.nonFinite += 1;
    if (agrees) this.agree += 1;
    if (row.referenceMargin >= CONFIDENT_MARGIN) {
      this.confident += 1;
      if (agrees) this.confidentAgree += 1;
    }
    if (label !== undefined) {
      const referenceRight = row.reference === label;
      const candidateRight = row.candidate === label && row.finite;
      const key = referenceRight ? (candidateRight ? 'both' : 'firstOnly') : candidateRight ? 'secondOnly' : 'neither';
      this.paired[key] += 1;
    }
    this.maxAbs = Math.max(this.maxAbs, row.maxAbsDiff);
    this.samples += 1;
    this.margins.add(row.referenceMargin, !agrees);
    this.rowDiffs.add(row.maxAbsDiff);
    keepLargest(this.worst, row, this.keepWorst, (r) => r.maxAbsDiff);
    if (!agrees) keepLargest(this.flipped, row, this.keepWorst > 0 ? 10 : 0, (r) => r.referenceMargin);
  }

  result(): ComparisonMetrics {
    const accuracy = pairedAccuracy(this.paired);
    const p95 = this.rowDiffs.quantile(0.95);
    return {
      samples: this.samples,
      maxAbsDiff: this.maxAbs,
      meanAbsDiff: this.values === 0 ? 0 : this.sumAbs / this.values,
      minCosine: this.minCos,
      maxSoftmaxDiff: this.maxSoftmax,
      ...(p95 !== undefined && Number.isFinite(p95) ? { p95AbsDiff: p95 } : {}),
      top1Agreement: this.samples === 0 ? 0 : this.agree / this.samples,
      top1Agreed: this.agree,
      top1Interval: wilson(this.agree, this.samples),
      ...(this.confident > 0
        ? { confidentAgreement: this.confidentAgree / this.confident, confidentSamples: this.confident }
        : {}),
      nonFinite: this.nonFinite,
      worst: this.worst.map(example),
      flips: this.flipped.map(example),
      marginHistogram: this.margins.result(),
      ...(accuracy
        ? {
            labelled: accuracy.labelled,
            accuracy: accuracy.second,
            accuracyInterval: accuracy.secondInterval,
            referenceAccuracy: accuracy.first,
            referenceAccuracyInterval: accuracy.firstInterval,
            accuracyDrop: accuracy.drop,
            accuracyDropInterval: accuracy.dropInterval,
          }
        : {}),
    };
  }
}
