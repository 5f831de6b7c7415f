import { join } from 'node:path';
import type { BridgeClient } from '../bridge/client.js';
import { callBridge } from '../bridge/methods.js';
import { readNpy } from '../bridge/npy.js';
import { ProgressLine } from '../progress.js';
import type { StoredBatch } from '../verify/stored-batch.js';
import { batchSamples, splitRanges, type SampleSet, type SampleSplit } from '../verify/samples.js';

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

interface PlannedBatch {
  split: SampleSplit;
  firstIndex: number;
  texts: string[];
}

function rows(data: ArrayLike<number | bigint>, shape: number[]): number[][] {
  const [count = 0, width = 0] = shape;
  return Array.from({ length: count }, (_, r) => Array.from({ length: width }, (_, c) => Number(data[r * width + c]!)));
}

/** One batch tokenized and run through PyTorch in the bridge, as verification.json stores it. */
async function referenceBatch(input: ReferenceInput, batch: PlannedBatch, dir: string): Promise<StoredBatch> {
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
  return record;
}

/** Tokenizes every sample and runs it through PyTorch (both in the bridge), batch by batch, calibration split first. */
export async function runReference(input: ReferenceInput): Promise<StoredBatch[]> {
  const planned: PlannedBatch[] = splitRanges(input.samples).flatMap(([split, from, to]) =>
    batchSamples(input.samples.texts.slice(from, to)).map((batch) => ({
      split,
      firstIndex: from + batch.firstIndex,
      texts: batch.texts,
    })),
  );
  const stored: StoredBatch[] = [];
  const progress = new ProgressLine(planned.length, 'batches');
  for (const [index, batch] of planned.entries()) {
    input.onProgress?.(`PyTorch: ${progress.line(index)}`);
    stored.push(await referenceBatch(input, batch, join(input.workDir, `batch-${index}`)));
  }
  return stored;
}
