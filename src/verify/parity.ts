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
export async function compareWithPytorch(input: ParityInput): Promise<Record<string, Record<string, ComparisonMetrics>>> {
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
      for (const task of input.tasks) {
        const expected = toLogits(await readNpy(reference.files[task]!));
        for (const kind of Object.keys(input.graphs[task] ?? {})) {
          const actual = await sessions.get(key(task, kind))!.run(tokenized);
          comparisons.get(key(task, kind))!.add(expected, actual, batch.texts, batch.firstIndex);
        }
      }
    }
  } finally {
    for (const session of sessions.values()) await session.release();
  }
  const out: Record<string, Record<string, ComparisonMetrics>> = {};
  for (const task of input.tasks) {
    out[task] = Object.fromEntries(Object.keys(input.graphs[task] ?? {}).map((kind) => [kind, comparisons.get(key(task, kind))!.result()]));
  }
  return out;
}
