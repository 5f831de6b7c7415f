import { basename } from 'node:path';
import { mergeSamples } from './merge.js';
import { readSamplesFile } from './read.js';
import type { ReadSamplesOptions } from './types.js';

/** The user's --samples, read, checked against the model's labels and merged by text. */
export interface UserSamples {
  /** What was read: each file with its entries. */
  files: Array<{ file: string; entries: number }>;
  /** Distinct texts, in code-unit order (so the split does not depend on how the files are arranged). */
  texts: string[];
  /** Per text: task -> gold label id (undefined: no label for any task). */
  gold: Array<Record<string, number> | undefined>;
  /** Entries whose text another entry already had (merged into one sample). */
  merged: number;
}

export interface UserSamplesOptions {
  /** task -> label name -> id: the model's label maps. */
  labelMaps: Readonly<Record<string, Readonly<Record<string, number>>>>;
  textColumn?: string;
  labelColumns?: Readonly<Record<string, string>>;
}

/** Reads every --samples file (any format), checks its labels against the model and merges the texts. */
export async function readUserSamples(files: readonly string[], options: UserSamplesOptions): Promise<UserSamples> {
  const readOptions: ReadSamplesOptions = {
    labels: Object.fromEntries(Object.entries(options.labelMaps).map(([task, map]) => [task, Object.keys(map)])),
    ...(options.textColumn ? { textColumn: options.textColumn } : {}),
    ...(options.labelColumns ? { labelColumns: options.labelColumns } : {}),
  };
  const read = [];
  for (const file of files) read.push({ file, records: await readSamplesFile(file, readOptions) });
  const merged = mergeSamples(read).sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  const entries = read.reduce((sum, { records }) => sum + records.length, 0);
  return {
    files: read.map(({ file, records }) => ({ file, entries: records.length })),
    texts: merged.map((sample) => sample.text),
    gold: merged.map((sample) => {
      const labels = Object.entries(sample.labels);
      if (labels.length === 0) return undefined;
      return Object.fromEntries(labels.map(([task, label]) => [task, options.labelMaps[task]![label]!]));
    }),
    merged: entries - merged.length,
  };
}

/** "val.json (1,000) + more.csv (250)". */
export function describeUserSamples(samples: UserSamples): string {
  return samples.files.map(({ file, entries }) => `${basename(file)} (${entries.toLocaleString('en-US')})`).join(' + ');
}

/** The texts of samples files, labels ignored: calibration texts for a raw ONNX file (`quantize`). */
export async function readSampleTexts(files: readonly string[]): Promise<{ source: string; texts: string[] }> {
  const read = [];
  for (const file of files) read.push({ file, records: await readSamplesFile(file, {}) });
  return { source: files.join(', '), texts: mergeSamples(read).map((sample) => sample.text) };
}
