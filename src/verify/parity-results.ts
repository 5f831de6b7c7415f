import { LogitsComparison, type ComparisonMetrics, type LogitsBatch } from '../metrics/logits.js';
import { comparisonFor } from './parity-plan.js';
import { referenceLogits, type StoredBatch } from './stored-batch.js';

type MeasuredOn = NonNullable<ComparisonMetrics['measuredOn']>;

/** The comparisons of every task's graph outputs with PyTorch's logits, batch by batch: task -> comparison -> metrics. */
export class ParityResults {
  private readonly comparisons = new Map<string, Map<string, LogitsComparison>>();
  private readonly measuredOn = new Map<string, MeasuredOn>();

  /** Adds one batch of one task's graph output to the comparison its kind and split count in. */
  add(kind: string, batch: StoredBatch, task: string, actual: LogitsBatch): void {
    const byKind = this.comparisons.get(task) ?? this.comparisons.set(task, new Map()).get(task)!;
    const key = comparisonFor(kind, batch.split);
    if (!byKind.has(key)) byKind.set(key, new LogitsComparison());
    const labels = batch.gold?.map((g) => g?.[task]);
    byKind.get(key)!.add(referenceLogits(batch, task), actual, batch.texts, batch.firstIndex, labels);
  }

  /** The task's comparison `key` reports another graph's logits (see MeasuredLogits, shareMultihead). */
  markMeasured(task: string, key: string, on: MeasuredOn): void {
    this.measuredOn.set(`${task}/${key}`, on);
  }

  /** Per-task graphs' comparisons first, then the multihead graph's (the order reports list them in). */
  metrics(): Record<string, Record<string, ComparisonMetrics>> {
    const ordered = (byKind: Map<string, LogitsComparison>) =>
      [...byKind].sort(([a], [b]) => Number(a.startsWith('multihead-')) - Number(b.startsWith('multihead-')));
    return Object.fromEntries(
      [...this.comparisons].map(([task, byKind]) => [
        task,
        Object.fromEntries(
          ordered(byKind).map(([key, comparison]) => {
            const via =
              this.measuredOn.get(`${task}/${key}`) ??
              this.measuredOn.get(`${task}/${key.replace(/-calibration$/, '')}`);
            return [key, { ...comparison.result(), ...(via ? { measuredOn: via } : {}) }];
          }),
        ),
      ]),
    );
  }
}
