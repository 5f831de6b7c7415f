import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import { shuffled } from '../samples/order.js';
import { EMBEDDED_SAMPLES } from './sample-texts.js';

/**
 * Batch sizes cycle so that padding differs from batch to batch (and batch 1 has none). Texts are
 * batched in length order (byLength), so the padding stays small: every graph run costs what the
 * texts cost, not what one long text in a batch of short ones costs.
 */
const BATCH_SIZES = [1, 4, 16, 7, 32, 3];

export interface SampleBatch {
  firstIndex: number;
  texts: string[];
}

export function batchSamples(texts: readonly string[]): SampleBatch[] {
  const batches: SampleBatch[] = [];
  let index = 0;
  let size = 0;
  while (index < texts.length) {
    const take = BATCH_SIZES[size % BATCH_SIZES.length]!;
    batches.push({ firstIndex: index, texts: texts.slice(index, index + take) });
    index += take;
    size += 1;
  }
  return batches;
}

export interface SampleSet {
  source: string;
  seed: number;
  texts: string[];
  /** Per text: task -> gold label id, where the samples file gave one. */
  gold?: Array<Record<string, number> | undefined>;
}

/**
 * Reads --samples: .txt (one text per line) or .jsonl ({"text": ..., "labels": {"task": "label"}}).
 * Refuses an empty file, invalid UTF-8, bad JSON, and labels for unknown tasks or unknown label names.
 */
export function parseSamplesFile(
  file: string,
  bytes: Uint8Array,
  labelMaps: Record<string, Record<string, number>>,
): { texts: string[]; gold: Array<Record<string, number> | undefined> } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError('the samples file is not valid UTF-8', { file });
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new InputError('the samples file has no samples', { file });
  if (!file.endsWith('.jsonl')) return { texts: lines, gold: lines.map(() => undefined) };
  const texts: string[] = [];
  const gold: Array<Record<string, number> | undefined> = [];
  lines.forEach((line, index) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new InputError(`line ${index + 1} is not JSON`, { file });
    }
    const isObject = (value: unknown): value is Record<string, unknown> =>
      typeof value === 'object' && value !== null && !Array.isArray(value);
    const entry = isObject(parsed) ? parsed : {};
    if (typeof entry.text !== 'string') throw new InputError(`line ${index + 1} has no "text" string`, { file });
    texts.push(entry.text);
    if (entry.labels === undefined) {
      gold.push(undefined);
      return;
    }
    if (!isObject(entry.labels))
      throw new InputError(`line ${index + 1}: "labels" must be an object of task -> label name`, { file });
    const labels: Record<string, number> = {};
    for (const [task, label] of Object.entries(entry.labels)) {
      // own properties only: "constructor" or "__proto__" are not tasks or labels
      const map = Object.hasOwn(labelMaps, task) ? labelMaps[task] : undefined;
      if (!map)
        throw new InputError(
          `line ${index + 1}: unknown task "${task}" in labels; the model has ${Object.keys(labelMaps).join(', ')}`,
          { file },
        );
      if (typeof label !== 'string')
        throw new InputError(`line ${index + 1}: the label of task "${task}" must be a label name (a string)`, {
          file,
        });
      const id = Object.hasOwn(map, label) ? map[label] : undefined;
      if (id === undefined) throw new InputError(`line ${index + 1}: task "${task}" has no label "${label}"`, { file });
      labels[task] = id;
    }
    gold.push(labels);
  });
  return { texts, gold };
}

/** The embedded set plus, when given, the user's samples (in file order, after the embedded ones). */
export async function loadSamples(
  seed: number,
  limit: number | undefined,
  files: readonly string[],
  labelMaps: Record<string, Record<string, number>>,
): Promise<SampleSet> {
  const embedded = embeddedSamples(seed, limit);
  if (files.length === 0) return embedded;
  const texts = [...embedded.texts];
  const gold: Array<Record<string, number> | undefined> = embedded.texts.map(() => undefined);
  for (const file of files) {
    const bytes = await readFile(file).catch(() => {
      throw new InputError('the samples file cannot be read', { file });
    });
    const extra = parseSamplesFile(file, bytes, labelMaps);
    texts.push(...extra.texts);
    gold.push(...extra.gold);
  }
  return { source: `embedded + ${files.map((file) => basename(file)).join(' + ')}`, seed, texts, gold };
}

export function embeddedSamples(seed: number, limit?: number): SampleSet {
  const texts = shuffled(EMBEDDED_SAMPLES, seed);
  return { source: 'embedded', seed, texts: limit ? texts.slice(0, limit) : texts };
}

/**
 * The samples in a seeded order, split in two disjoint halves: the first `calibrationCount` texts
 * tune the INT8 choice, the rest judge it.
 */
export function splitForCalibration(
  samples: SampleSet,
  seed: number,
): { samples: SampleSet; calibrationCount: number } {
  const order = shuffled(
    samples.texts.map((_, index) => index),
    seed,
  );
  const reordered: SampleSet = {
    ...samples,
    texts: order.map((index) => samples.texts[index]!),
    ...(samples.gold ? { gold: order.map((index) => samples.gold![index]) } : {}),
  };
  return { samples: reordered, calibrationCount: Math.floor(samples.texts.length / 2) };
}

/**
 * The samples with each split (the first `calibrationCount` texts, then the rest) in order of length
 * (`lengths`, per text: token counts, or characters by default), shortest first (stable), gold labels
 * alongside: batched in this order, texts of similar length share a batch. Membership of the splits
 * does not change.
 */
export function byLength(
  samples: SampleSet,
  calibrationCount: number,
  lengths: readonly number[] = samples.texts.map((text) => text.length),
): SampleSet {
  const sortRange = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, offset) => from + offset).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const order = [...sortRange(0, calibrationCount), ...sortRange(calibrationCount, samples.texts.length)];
  return {
    ...samples,
    texts: order.map((index) => samples.texts[index]!),
    ...(samples.gold ? { gold: order.map((index) => samples.gold![index]) } : {}),
  };
}
