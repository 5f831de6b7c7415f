import { join } from 'node:path';
import type { StoredBatch as VerificationBatch } from '../config/verification.js';
import { comparisonVariant, multiheadComparison, VARIANT_PLANS, type Variant } from '../plan/variants.js';
import type { BridgeClient } from '../bridge/client.js';
import { callBridge } from '../bridge/methods.js';
import { readNpy } from '../bridge/npy.js';
import { LogitsComparison, type ComparisonMetrics, type LogitsBatch } from './metrics.js';
import { ClassifierSession, type TokenizedBatch } from './onnx-session.js';
import { batchSamples, type SampleSet } from './samples.js';

/** What `rapidfit-export verify` needs to re-run the comparison without Python: inputs and PyTorch logits (verification.json's batches). */
export type StoredBatch = VerificationBatch;

/** Which texts a batch holds: ones the INT8 choice was tuned on, or ones it is judged on. */
export type SampleSplit = NonNullable<StoredBatch['split']>;

export interface ReferenceInput {
  bridge: BridgeClient;
  modelDir: string;
  taskName?: string;
  tasks: string[];
  samples: SampleSet;
  /** How many of the samples (the first ones) are the calibration split; 0 when nothing is tuned. */
  calibrationCount: number;
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
  const splits: Array<[SampleSplit, number, string[]]> = [
    ['calibration', 0, input.samples.texts.slice(0, input.calibrationCount)],
    ['judged', input.calibrationCount, input.samples.texts.slice(input.calibrationCount)],
  ];
  const planned = splits.flatMap(([split, offset, texts]) =>
    batchSamples(texts).map((batch) => ({ split, firstIndex: offset + batch.firstIndex, texts: batch.texts })),
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
    const record: StoredBatch = {
      firstIndex: batch.firstIndex,
      split: batch.split,
      texts: batch.texts,
      inputIds: rows(inputIds.data, inputIds.shape),
      attentionMask: rows(attentionMask.data, attentionMask.shape),
      reference: {},
    };
    for (const task of input.tasks) {
      const logits = await readNpy(reference.files[task]!);
      if (logits.dtype !== 'float32' || logits.shape.length !== 2) throw new Error('reference logits must be float32 [rows, labels]');
      record.reference[task] = rows(logits.data, logits.shape);
    }
    stored.push(record);
  }
  return stored;
}

export function tokenizedBatch(batch: StoredBatch): TokenizedBatch {
  const shape = [batch.inputIds.length, batch.inputIds[0]?.length ?? 0];
  const toTensor = (values: number[][]) => ({ dtype: 'int64' as const, shape, data: BigInt64Array.from(values.flat().map(BigInt)) });
  return { inputIds: toTensor(batch.inputIds), attentionMask: toTensor(batch.attentionMask) };
}

/**
 * The comparison a batch counts in: results of a variant tuned on the calibration split (INT8) are
 * reported apart there ("int8-calibration") and never gated, since the variant was chosen on those texts.
 */
export function comparisonFor(kind: string, split: SampleSplit | undefined): string {
  const variant = comparisonVariant(kind);
  return variant && VARIANT_PLANS[variant].calibrated && split === 'calibration' ? `${kind}-calibration` : kind;
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
  gold: ReadonlyArray<Record<string, number> | undefined> | undefined,
): void {
  const reference = batch.reference[task];
  if (!reference) throw new Error(`no reference logits for task "${task}"`);
  const key = comparisonFor(kind, batch.split);
  if (!comparisons.has(key)) comparisons.set(key, new LogitsComparison());
  const labels = gold?.slice(batch.firstIndex, batch.firstIndex + batch.texts.length).map((g) => g?.[task]);
  comparisons
    .get(key)!
    .add({ rows: reference.length, labels: reference[0]?.length ?? 0, data: Float32Array.from(reference.flat()) }, actual, batch.texts, batch.firstIndex, labels);
}

/**
 * Runs each task's ONNX graphs (onnxruntime-node) on the stored batches and compares them with the
 * stored PyTorch logits: task -> comparison -> metrics. `gold` gives per sample index task -> label id.
 * The multihead graphs run once per batch; each task's output counts in "multihead-<variant>".
 */
export async function compareWithReference(
  batches: readonly StoredBatch[],
  graphs: Record<string, Record<string, string>>,
  gold?: ReadonlyArray<Record<string, number> | undefined>,
  onProgress?: (message: string) => void,
  multihead?: MultiheadGraphs,
): Promise<Record<string, Record<string, ComparisonMetrics>>> {
  const comparisons = new Map<string, Map<string, LogitsComparison>>();
  const of = (task: string) => comparisons.get(task) ?? comparisons.set(task, new Map()).get(task)!;
  for (const [task, files] of Object.entries(graphs)) {
    for (const [kind, file] of Object.entries(files)) {
      onProgress?.(`${task}: ${kind} on ${batches.length} batches`);
      const session = await ClassifierSession.open(file);
      try {
        for (const batch of batches) addBatch(of(task), kind, batch, task, await session.run(tokenizedBatch(batch)), gold);
      } finally {
        await session.release();
      }
    }
  }
  for (const [variant, file] of Object.entries(multihead?.files ?? {})) {
    onProgress?.(`multihead: ${variant} on ${batches.length} batches`);
    const outputs = Object.entries(multihead!.outputs);
    const session = await ClassifierSession.open(file);
    try {
      for (const batch of batches) {
        const actual = await session.runAll(tokenizedBatch(batch), outputs.map(([, output]) => output));
        for (const [task, output] of outputs) addBatch(of(task), multiheadComparison(variant as Variant), batch, task, actual[output]!, gold);
      }
    } finally {
      await session.release();
    }
  }
  return Object.fromEntries([...comparisons].map(([task, byKind]) => [task, Object.fromEntries([...byKind].map(([key, comparison]) => [key, comparison.result()]))]));
}
