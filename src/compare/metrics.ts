import { pairedAccuracy, wilson, type Interval, type PairedCounts } from '../metrics/intervals.js';
import { argmax, softmax } from '../metrics/softmax.js';
import type { TaskLogits } from './run.js';

/** A text whose predicted label is not the same in both releases. */
export interface ChangedText {
  index: number;
  text: string;
  old: string;
  new: string;
  oldConfidence: number;
  newConfidence: number;
  /** The gold label, when the texts have one for this task. */
  gold?: string;
}

export interface AccuracyChange {
  labelled: number;
  old: number;
  oldInterval: Interval;
  new: number;
  newInterval: Interval;
  /** old - new accuracy on the same texts (positive: the new release is worse), Newcombe's paired 95% interval. */
  drop: number;
  dropInterval: Interval;
}

/** What changed between two releases of one task's graph of one variant, on the same texts. */
export interface TaskVariantMetrics {
  texts: number;
  /** Texts with the same predicted label (by name) in both releases. */
  agreed: number;
  agreement: number;
  agreementInterval: Interval;
  /** Every changed text, the most confident old prediction first. */
  changed: ChangedText[];
  accuracy?: AccuracyChange;
  /** Over the labels both releases have (by name): abs differences of probabilities and logits. */
  shift: { maxProbability: number; meanProbability: number; maxLogit: number; meanLogit: number };
}

/** The label sets of one task in both releases, matched by name. */
export interface LabelMatch {
  common: string[];
  added: string[];
  removed: string[];
  /** True when the common labels sit at other class ids. */
  reordered: boolean;
}

export function matchLabels(old: readonly string[], candidate: readonly string[]): LabelMatch {
  const common = old.filter((label) => candidate.includes(label));
  return {
    common,
    added: candidate.filter((label) => !old.includes(label)),
    removed: old.filter((label) => !candidate.includes(label)),
    reordered: common.some((label) => old.indexOf(label) !== candidate.indexOf(label)),
  };
}

interface Side {
  labels: readonly string[];
  logits: TaskLogits;
}

/** Agreement, changed texts, accuracy and logit shift of one task between two releases' logits. */
export function compareTaskLogits(
  old: Side,
  candidate: Side,
  texts: readonly string[],
  gold: ReadonlyArray<Readonly<Record<string, string>>>,
  task: string,
): TaskVariantMetrics {
  const common = matchLabels(old.labels, candidate.labels).common;
  const columns = common.map((label) => [old.labels.indexOf(label), candidate.labels.indexOf(label)] as const);
  const paired: PairedCounts = { both: 0, firstOnly: 0, secondOnly: 0, neither: 0 };
  const changed: ChangedText[] = [];
  const shift = { maxProbability: 0, meanProbability: 0, maxLogit: 0, meanLogit: 0 };
  let agreed = 0;
  for (const [index, text] of texts.entries()) {
    const a = row(old, index);
    const b = row(candidate, index);
    for (const [i, j] of columns) {
      const probability = Math.abs(a.probabilities[i]! - b.probabilities[j]!);
      const logit = Math.abs(a.logits[i]! - b.logits[j]!);
      shift.maxProbability = Math.max(shift.maxProbability, probability);
      shift.maxLogit = Math.max(shift.maxLogit, logit);
      shift.meanProbability += probability;
      shift.meanLogit += logit;
    }
    const oldLabel = old.labels[a.top]!;
    const newLabel = candidate.labels[b.top]!;
    const label = gold[index]?.[task];
    if (oldLabel === newLabel) agreed += 1;
    else {
      const confidences = { oldConfidence: a.probabilities[a.top]!, newConfidence: b.probabilities[b.top]! };
      changed.push({ index, text, old: oldLabel, new: newLabel, ...confidences, ...(label ? { gold: label } : {}) });
    }
    if (label !== undefined) {
      const key =
        oldLabel === label
          ? newLabel === label
            ? 'both'
            : 'firstOnly'
          : newLabel === label
            ? 'secondOnly'
            : 'neither';
      paired[key] += 1;
    }
  }
  const values = texts.length * columns.length;
  if (values > 0) {
    shift.meanProbability /= values;
    shift.meanLogit /= values;
  }
  changed.sort((x, y) => y.oldConfidence - x.oldConfidence || x.index - y.index);
  return {
    texts: texts.length,
    agreed,
    agreement: texts.length === 0 ? 1 : agreed / texts.length,
    agreementInterval: wilson(agreed, texts.length),
    changed,
    ...accuracyOf(paired),
    shift,
  };
}

function row(side: Side, index: number) {
  const width = side.logits.labels;
  const start = index * width;
  return {
    logits: side.logits.data.subarray(start, start + width),
    probabilities: softmax(side.logits.data, start, width),
    top: argmax(side.logits.data, start, width),
  };
}

function accuracyOf(paired: PairedCounts): { accuracy?: AccuracyChange } {
  const a = pairedAccuracy(paired);
  if (!a) return {};
  return {
    accuracy: {
      labelled: a.labelled,
      old: a.first,
      oldInterval: a.firstInterval,
      new: a.second,
      newInterval: a.secondInterval,
      drop: a.drop,
      dropInterval: a.dropInterval,
    },
  };
}
