import { join } from 'node:path';
import type { BridgeClient } from '../bridge/client.js';
import { readNpy } from '../bridge/npy.js';
import { LogitsComparison, type ComparisonMetrics, type LogitsBatch } from './metrics.js';
import { ClassifierSession, type TokenizedBatch } from './onnx-session.js';
import { batchSamples, type SampleSet } from './samples.js';

export interface ParityInput {
  bridge: BridgeClient;
  modelDir: string;
  taskName?: string;
  tasks: string[];
  /** task -> comparison kind ("fp32", "int8") -> ONNX file to check against PyTorch. */
  graphs: Record<string, Record<string, string>>;
  samples: SampleSet;
  maxLength: number;
  workDir: string;
  onProgress?: (message: string) => void;
}

function toLogits(array: Awaited<ReturnType<typeof readNpy>>): LogitsBatch {
  if (array.dtype !== 'float32' || array.shape.length !== 2) throw new Error('reference logits must be float32 [rows, labels]');
  return { rows: array.shape[0]!, labels: array.shape[1]!, data: array.data };
}

/** Runs every sample through PyTorch (bridge) and each ONNX graph (onnxruntime-node) and compares. */
/** What `rapidfit-export verify` needs to re-run the comparison without Python: inputs and PyTorch logits. */
export interface StoredBatch {
  firstIndex: number;
  texts: string[];
  inputIds: number[][];
  attentionMask: number[][];
  /** task -> PyTorch logits [rows][labels] */
  reference: Record<string, number[][]>;
}

export interface ParityResult {
  metrics: Record<string, Record<string, ComparisonMetrics>>;
  batches: StoredBatch[];
}

function rows(data: ArrayLike<number | bigint>, shape: number[]): number[][] {
  const [count = 0, width = 0] = shape;
  return Array.from({ length: count }, (_, r) => Array.from({ length: width }, (_, c) => Number(data[r * width + c]!)));
}

export async function compareWithPytorch(input: ParityInput): Promise<ParityResult> {
  const stored: StoredBatch[] = [];
  const sessions = new Map<string, ClassifierSession>();
  const comparisons = new Map<string, LogitsComparison>();
  const key = (task: string, kind: string) => `${task}\u0000${kind}`;
  try {
    for (const task of input.tasks) {
      for (const [kind, file] of Object.entries(input.graphs[task] ?? {})) {
        sessions.set(key(task, kind), await ClassifierSession.open(file));
        comparisons.set(key(task, kind), new LogitsComparison());
      }
    }
    const batches = batchSamples(input.samples.texts);
    for (const [batchIndex, batch] of batches.entries()) {
      input.onProgress?.(`batch ${batchIndex + 1}/${batches.length} (${batch.texts.length} texts)`);
      const dir = join(input.workDir, `batch-${batchIndex}`);
      const tokens = await input.bridge.request<{ input_ids: string; attention_mask: string }>('tokenize', {
        model_dir: input.modelDir,
        texts: batch.texts,
        max_length: input.maxLength,
        out_dir: dir,
      });
      const reference = await input.bridge.request<{ files: Record<string, string> }>('predict', {
        model_dir: input.modelDir,
        task_name: input.taskName,
        tasks: input.tasks,
        input_ids: tokens.input_ids,
        attention_mask: tokens.attention_mask,
        out_dir: dir,
      });
      const tokenized: TokenizedBatch = {
        inputIds: await readNpy(tokens.input_ids),
        attentionMask: await readNpy(tokens.attention_mask),
      };
      const batchRecord: StoredBatch = {
        firstIndex: batch.firstIndex,
        texts: batch.texts,
        inputIds: rows(tokenized.inputIds.data, tokenized.inputIds.shape),
        attentionMask: rows(tokenized.attentionMask.data, tokenized.attentionMask.shape),
        reference: {},
      };
      stored.push(batchRecord);
      for (const task of input.tasks) {
        const expected = toLogits(await readNpy(reference.files[task]!));
        batchRecord.reference[task] = rows(expected.data, [expected.rows, expected.labels]);
        for (const kind of Object.keys(input.graphs[task] ?? {})) {
          const actual = await sessions.get(key(task, kind))!.run(tokenized);
          const gold = input.samples.gold?.slice(batch.firstIndex, batch.firstIndex + batch.texts.length).map((labels) => labels?.[task]);
          comparisons.get(key(task, kind))!.add(expected, actual, batch.texts, batch.firstIndex, gold);
        }
      }
    }
  } finally {
    for (const session of sessions.values()) await session.release();
  }
  const metrics: Record<string, Record<string, ComparisonMetrics>> = {};
  for (const task of input.tasks) {
    metrics[task] = Object.fromEntries(Object.keys(input.graphs[task] ?? {}).map((kind) => [kind, comparisons.get(key(task, kind))!.result()]));
  }
  return { metrics, batches: stored };
}
