import { basename, join } from 'node:path';
import type { StoredBatch as VerificationBatch } from '../config/verification.js';
import { comparisonVariant, multiheadComparison, VARIANT_PLANS, type Variant } from '../plan/variants.js';
import type { BridgeClient } from '../bridge/client.js';
import { callBridge } from '../bridge/methods.js';
import { readNpy } from '../bridge/npy.js';
import { LogitsComparison, type ComparisonMetrics, type LogitsBatch } from '../metrics/logits.js';
import { ClassifierSession, type TokenizedBatch } from '../onnx/session.js';
import { batchSamples, splitRanges, type SampleSet, type SampleSplit } from './samples.js';

/** What `rapidfit-export verify` needs to re-run the comparison without Python: inputs and PyTorch logits (verification.json's batches). */
export type StoredBatch = VerificationBatch;

export interface ReferenceInput {
  bridge: BridgeClient;
  modelDir: string;
  taskName?: string;
  tasks: string[];
  /** The texts, split after split (see planSamples), each split in token-count order. */
  samples: SampleSet;
  maxLength: number;
  workDir: string;
  onProgress?: (message: string) => void;
}

function rows(data: ArrayLike<number | bigint>, shape: number[]): number[][] {
  const [count = 0, width = 0] = shape;
  return Array.from({ length: count }, (_, r) => Array.from({ length: width }, (_, c) => Number(data[r * width + c]!)));
}

/** Tokenizes every sample and runs it through PyTorch (both in the bridge), batch by batch, calibration split first. */
export async function runReference(input: ReferenceInput): Promise<StoredBatch[]> {
  const planned = splitRanges(input.samples).flatMap(([split, from, to]) =>
    batchSamples(input.samples.texts.slice(from, to)).map((batch) => ({
      split,
      firstIndex: from + batch.firstIndex,
      texts: batch.texts,
    })),
  );
  const stored: StoredBatch[] = [];
  for (const [index, batch] of planned.entries()) {
    input.onProgress?.(`PyTorch: batch ${index + 1}/${planned.length} (${batch.texts.length} texts)`);
    const dir = join(input.workDir, `batch-${index}`);
    const tokens = await callBridge(input.bridge, 'tokenize', {
      model_dir: input.modelDir,
      texts: batch.texts,
      max_length: input.maxLength,
      out_dir: dir,
    });
    const reference = await callBridge(input.bridge, 'predict', {
      model_dir: input.modelDir,
      task_name: input.taskName,
      tasks: input.tasks,
      input_ids: tokens.input_ids,
      attention_mask: tokens.attention_mask,
      out_dir: dir,
    });
    const inputIds = await readNpy(tokens.input_ids);
    const attentionMask = await readNpy(tokens.attention_mask);
    const gold = input.samples.gold?.slice(batch.firstIndex, batch.firstIndex + batch.texts.length);
    const record: StoredBatch = {
      firstIndex: batch.firstIndex,
      split: batch.split,
      texts: batch.texts,
      ...(gold?.some((labels) => labels !== undefined) ? { gold: gold.map((labels) => labels ?? null) } : {}),
      inputIds: rows(inputIds.data, inputIds.shape),
      attentionMask: rows(attentionMask.data, attentionMask.shape),
      reference: {},
    };
    for (const task of input.tasks) {
      const logits = await readNpy(reference.files[task]!);
      if (logits.dtype !== 'float32' || logits.shape.length !== 2)
        throw new Error('reference logits must be float32 [rows, labels]');
      record.reference[task] = rows(logits.data, logits.shape);
    }
    stored.push(record);
  }
  return stored;
}

export function tokenizedBatch(batch: TokenRows): TokenizedBatch {
  const shape = [batch.inputIds.length, batch.inputIds[0]?.length ?? 0];
  const toTensor = (values: number[][]) => ({
    dtype: 'int64' as const,
    shape,
    data: BigInt64Array.from(values.flat().map(BigInt)),
  });
  return { inputIds: toTensor(batch.inputIds), attentionMask: toTensor(batch.attentionMask) };
}

/** PyTorch's logits of one task in a stored batch. */
export function referenceLogits(batch: StoredBatch, task: string): LogitsBatch {
  const reference = batch.reference[task];
  if (!reference) throw new Error(`no reference logits for task "${task}"`);
  return { rows: reference.length, labels: reference[0]?.length ?? 0, data: Float32Array.from(reference.flat()) };
}

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

/** The multihead graph of each variant (fp32, int8) and each task's output in it. */
export interface MultiheadGraphs {
  files: Record<string, string>;
  outputs: Record<string, string>;
}

/** Adds one batch of one task's graph output to the comparison its kind and split count in. */
function addBatch(
  comparisons: Map<string, LogitsComparison>,
  kind: string,
  batch: StoredBatch,
  task: string,
  actual: LogitsBatch,
): void {
  const key = comparisonFor(kind, batch.split);
  if (!comparisons.has(key)) comparisons.set(key, new LogitsComparison());
  const labels = batch.gold?.map((g) => g?.[task]);
  comparisons.get(key)!.add(referenceLogits(batch, task), actual, batch.texts, batch.firstIndex, labels);
}

function maxDifference(a: LogitsBatch, b: LogitsBatch): number {
  if (a.data.length !== b.data.length) return Infinity;
  let max = 0;
  for (let index = 0; index < a.data.length; index += 1) max = Math.max(max, Math.abs(a.data[index]! - b.data[index]!));
  return Number.isNaN(max) ? Infinity : max;
}

/** The token rows of a batch (what a graph is fed). */
export type TokenRows = Pick<StoredBatch, 'inputIds' | 'attentionMask'>;

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
 * A variant's multihead logits already measured on the first batches, per task, batch by batch from
 * batch 0: the INT8 search ran the graph multihead_int8.onnx is cut from on the calibration split, and
 * its error probe ran multihead.onnx's FP32 nodes, unchanged, on the same split.
 */
export interface MeasuredLogits {
  /** What ran them, for the report's `measuredOn`. */
  graph: string;
  logits: Record<string, LogitsBatch[]>;
}

export interface CompareOptions {
  onProgress?: (message: string) => void;
  multihead?: MultiheadGraphs;
  /** Task graphs shown bit-identical to their multihead graph report its metrics (see below). */
  shareMultihead?: boolean;
  /** variant -> logits its multihead graph would give on the first batches; used once it gives them bit for bit on measuredCheckBatches. */
  measured?: Record<string, MeasuredLogits>;
}

/**
 * The batches a multihead graph runs itself before measured logits stand in for it on the others: the
 * first two and the last of the measured ones (batches are in token-count order, so the shortest and
 * the longest texts: both ends of the sequence lengths, as for the task graphs).
 */
export function measuredCheckBatches(knownCount: number): number[] {
  return [...new Set([0, 1, knownCount - 1])].filter((index) => index >= 0 && index < knownCount).sort((a, b) => a - b);
}

/**
 * Runs each task's ONNX graphs (onnxruntime-node) on the stored batches and compares them with the
 * stored PyTorch logits: task -> comparison -> metrics. Gold labels come with the batches.
 * The multihead graphs run once per batch; each task's output counts in "multihead-<variant>".
 *
 * With `shareMultihead`, a task's graph of a variant that has a multihead graph runs only on the
 * equivalenceInputs (shortest and longest texts); when its logits there are bit-identical to the multihead graph's output for
 * that task (it is the same subgraph with the same weights), its metrics are the multihead graph's on
 * every text, and say so in `measuredOn`. Otherwise it runs on every batch like any graph. One encoder
 * pass per variant instead of one per task and variant.
 *
 * With `measured` logits for a variant, its multihead graph first runs measuredCheckBatches (the first
 * two and the last of the measured batches); when all are bit-identical to the measured ones, the
 * measured logits stand for the other measured batches (the metrics say so in `measuredOn`), and the
 * graph runs the remaining batches. Otherwise it runs every batch.
 */
export async function compareWithReference(
  batches: readonly StoredBatch[],
  graphs: Record<string, Record<string, string>>,
  options: CompareOptions = {},
): Promise<Record<string, Record<string, ComparisonMetrics>>> {
  const { onProgress, multihead, shareMultihead = false, measured } = options;
  const comparisons = new Map<string, Map<string, LogitsComparison>>();
  const of = (task: string) => comparisons.get(task) ?? comparisons.set(task, new Map()).get(task)!;
  // variant -> task -> the multihead graph's logits, batch by batch, and on the equivalence inputs (kept only to share)
  const multiheadLogits = new Map<
    string,
    { file: string; tasks: Record<string, LogitsBatch[]>; checks: Record<string, LogitsBatch[]> }
  >();
  const checkInputs = shareMultihead ? equivalenceInputs(batches) : [];
  const measuredOn = new Map<string, NonNullable<ComparisonMetrics['measuredOn']>>();

  const runMultihead = async (variant: string, file: string, session: ClassifierSession) => {
    onProgress?.(`multihead: ${variant} on ${batches.length} batches`);
    const outputs = Object.entries(multihead!.outputs);
    const kept: Record<string, LogitsBatch[]> = Object.fromEntries(outputs.map(([task]) => [task, []]));
    const known = measured?.[variant];
    const knownCount = known
      ? Math.min(batches.length, ...outputs.map(([task]) => known.logits[task]?.length ?? 0))
      : 0;
    const checked = measuredCheckBatches(knownCount);
    // the check batches first: no measured logits are used before they all match bit for bit
    const ran = new Map<number, Record<string, LogitsBatch>>();
    let same = known !== undefined;
    for (const index of checked) {
      const actual = await session.runAll(
        tokenizedBatch(batches[index]!),
        outputs.map(([, output]) => output),
      );
      ran.set(index, actual);
      same &&= outputs.every(([task, output]) => maxDifference(actual[output]!, known!.logits[task]![index]!) === 0);
    }
    if (known && !same) onProgress?.(`multihead: ${variant} differs from ${known.graph}; running it on every batch`);
    const standIn = (index: number) => same && index < knownCount && !ran.has(index);
    for (const [index, batch] of batches.entries()) {
      const actual = standIn(index)
        ? Object.fromEntries(outputs.map(([task, output]) => [output, known!.logits[task]![index]!]))
        : (ran.get(index) ??
          (await session.runAll(
            tokenizedBatch(batch),
            outputs.map(([, output]) => output),
          )));
      for (const [task, output] of outputs) {
        addBatch(of(task), multiheadComparison(variant as Variant), batch, task, actual[output]!);
        if (shareMultihead) kept[task]!.push(actual[output]!);
      }
    }
    const standInIndices = batches.map((_, index) => index).filter(standIn);
    if (standInIndices.length > 0) {
      const samples = (indices: number[]) => indices.reduce((sum, index) => sum + batches[index]!.texts.length, 0);
      const keys = new Set(
        batches
          .slice(0, knownCount)
          .map((batch) => comparisonFor(multiheadComparison(variant as Variant), batch.split)),
      );
      const on = {
        graph: known!.graph,
        checkedSamples: samples(checked),
        maxAbsDiff: 0,
        standInSamples: samples(standInIndices),
      };
      for (const [task] of outputs) for (const key of keys) measuredOn.set(`${task}/${key}`, on);
    }
    if (shareMultihead) {
      const checks: Record<string, LogitsBatch[]> = Object.fromEntries(outputs.map(([task]) => [task, []]));
      for (const input of checkInputs) {
        const actual = await session.runAll(
          tokenizedBatch(input),
          outputs.map(([, output]) => output),
        );
        for (const [task, output] of outputs) checks[task]!.push(actual[output]!);
      }
      multiheadLogits.set(variant, { file, tasks: kept, checks });
    }
  };
  const runTaskGraph = async (task: string, kind: string, session: ClassifierSession) => {
    const shared = multiheadLogits.get(kind);
    const sharedTask = shared?.tasks[task];
    if (shared && sharedTask) {
      onProgress?.(`${task}: ${kind} on ${checkInputs.length} batches, against the multihead graph`);
      let difference = 0;
      for (const [index, input] of checkInputs.entries())
        difference = Math.max(
          difference,
          maxDifference(await session.run(tokenizedBatch(input)), shared.checks[task]![index]!),
        );
      if (difference === 0) {
        batches.forEach((batch, index) => addBatch(of(task), kind, batch, task, sharedTask[index]!));
        measuredOn.set(`${task}/${kind}`, {
          graph: basename(shared.file),
          checkedSamples: checkInputs.reduce((sum, input) => sum + input.inputIds.length, 0),
          maxAbsDiff: 0,
        });
        return;
      }
      onProgress?.(`${task}: ${kind} differs from the multihead graph (max ${difference}); running it on every batch`);
    } else {
      onProgress?.(`${task}: ${kind} on ${batches.length} batches`);
    }
    for (const batch of batches) addBatch(of(task), kind, batch, task, await session.run(tokenizedBatch(batch)));
  };

  // variant by variant: its multihead graph first (what the task graphs are checked against), then each task's
  const kinds = [
    ...new Set([
      ...Object.values(graphs).flatMap((files) => Object.keys(files)),
      ...Object.keys(multihead?.files ?? {}),
    ]),
  ];
  for (const kind of kinds) {
    const multiheadFile = multihead?.files[kind];
    const runs = [
      ...(multiheadFile
        ? [{ file: multiheadFile, run: (session: ClassifierSession) => runMultihead(kind, multiheadFile, session) }]
        : []),
      ...Object.entries(graphs)
        .filter(([, files]) => files[kind] !== undefined)
        .map(([task, files]) => ({
          file: files[kind]!,
          run: (session: ClassifierSession) => runTaskGraph(task, kind, session),
        })),
    ];
    // one session at a time: onnxruntime-node creates sessions on the main thread, so opening several
    // at once overlaps nothing (measured), and the task graphs need only the multihead graph's logits
    for (const run of runs) {
      const session = await ClassifierSession.open(run.file);
      try {
        await run.run(session);
      } finally {
        await session.release();
      }
    }
  }
  // per-task graphs' comparisons first, then the multihead graph's (the order reports list them in)
  const ordered = (byKind: Map<string, LogitsComparison>) =>
    [...byKind].sort(([a], [b]) => Number(a.startsWith('multihead-')) - Number(b.startsWith('multihead-')));
  return Object.fromEntries(
    [...comparisons].map(([task, byKind]) => [
      task,
      Object.fromEntries(
        ordered(byKind).map(([key, comparison]) => {
          const via = measuredOn.get(`${task}/${key}`) ?? measuredOn.get(`${task}/${key.replace(/-calibration$/, '')}`);
          return [key, { ...comparison.result(), ...(via ? { measuredOn: via } : {}) }];
        }),
      ),
    ]),
  );
}
