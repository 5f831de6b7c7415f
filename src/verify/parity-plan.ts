import { comparisonVariant, VARIANT_PLANS } from '../plan/variants.js';
import type { SampleSplit } from './samples.js';
import type { StoredBatch, TokenRows } from './stored-batch.js';

/** The multihead graph of each variant (fp32, int8) and each task's output in it. */
export interface MultiheadGraphs {
  files: Record<string, string>;
  outputs: Record<string, string>;
}

/** One graph to open and run: a variant's multihead graph, or one task's graph of a variant. */
export type GraphRun = { kind: string; file: string } & ({ graph: 'multihead' } | { graph: 'task'; task: string });

/**
 * The comparison a batch counts in: results of a variant tuned on the calibration split (INT8) are
 * reported apart there ("int8-calibration") and never gated, since the variant was chosen on those
 * texts; so are its results on the embedded texts when the user's texts judge it ("int8-embedded").
 */
export function comparisonFor(kind: string, split: SampleSplit | undefined): string {
  const variant = comparisonVariant(kind);
  if (!variant || !VARIANT_PLANS[variant].calibrated) return kind;
  return split === 'calibration' || split === 'embedded' ? `${kind}-${split}` : kind;
}

/**
 * Variant by variant, its multihead graph first (what the task graphs are checked against), then each
 * task's. One session at a time: onnxruntime-node creates sessions on the main thread, so opening
 * several at once overlaps nothing (measured), and the task graphs need only the multihead graph's logits.
 */
export function planRuns(graphs: Record<string, Record<string, string>>, multihead?: MultiheadGraphs): GraphRun[] {
  const kinds = [
    ...new Set([
      ...Object.values(graphs).flatMap((files) => Object.keys(files)),
      ...Object.keys(multihead?.files ?? {}),
    ]),
  ];
  return kinds.flatMap((kind): GraphRun[] => [
    ...(multihead?.files[kind] ? [{ kind, file: multihead.files[kind], graph: 'multihead' as const }] : []),
    ...Object.entries(graphs)
      .filter(([, files]) => files[kind] !== undefined)
      .map(([task, files]) => ({ kind, file: files[kind]!, graph: 'task' as const, task })),
  ]);
}

/**
 * The inputs a task graph runs to show it computes what the multihead graph does: the first two
 * batches (the shortest texts) and the longest text alone, padded to the widest batch (a text cut at
 * max_length), so both ends of the sequence lengths are covered. Each runs as one batch on both
 * graphs: batch composition changes results (INT8 scales per batch), so only the same input compares
 * bit for bit. The longest text runs alone because a whole batch of long texts costs ~10x as much.
 */
export function equivalenceInputs(batches: readonly StoredBatch[]): TokenRows[] {
  const inputs: TokenRows[] = batches.slice(0, 2).map(({ inputIds, attentionMask }) => ({ inputIds, attentionMask }));
  const filled = (mask: number[]) => mask.reduce((sum, value) => sum + value, 0);
  let longest: { batch: number; row: number; tokens: number } | undefined;
  batches.forEach((batch, index) =>
    batch.attentionMask.forEach((mask, row) => {
      if (!longest || filled(mask) > longest.tokens) longest = { batch: index, row, tokens: filled(mask) };
    }),
  );
  // already covered when it is a one-text batch among the first two
  if (longest && !(longest.batch < 2 && batches[longest.batch]!.texts.length === 1)) {
    const batch = batches[longest.batch]!;
    inputs.push({ inputIds: [batch.inputIds[longest.row]!], attentionMask: [batch.attentionMask[longest.row]!] });
  }
  return inputs;
}

/**
 * The batches a multihead graph runs itself before measured logits stand in for it on the others: the
 * first two and the last of the measured ones (batches are in token-count order, so the shortest and
 * the longest texts: both ends of the sequence lengths, as for the task graphs).
 */
export function measuredCheckBatches(knownCount: number): number[] {
  return [...new Set([0, 1, knownCount - 1])].filter((index) => index >= 0 && index < knownCount).sort((a, b) => a - b);
}
