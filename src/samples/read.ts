import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { readDelimited } from './delimited.js';
import { LabelSchema } from './labels.js';
import { readJsonLines, readTextLines } from './line-formats.js';
import { readSeedData } from './seed-json.js';
import { decodeUtf8 } from './text.js';
import type { ReadSamplesOptions, SampleRecord } from './types.js';

export type { ReadSamplesOptions, SampleRecord } from './types.js';

type SamplesFormat = 'seed-json' | 'jsonl' | 'csv' | 'tsv' | 'txt';

const FORMATS: ReadonlyMap<string, SamplesFormat> = new Map([
  ['.json', 'seed-json'],
  ['.jsonl', 'jsonl'],
  ['.ndjson', 'jsonl'],
  ['.csv', 'csv'],
  ['.tsv', 'tsv'],
  ['.txt', 'txt'],
]);

const KNOWN_FORMATS = 'use .json seed data, .jsonl, .csv, .tsv or .txt';

/** The format of a samples file, by its extension (case-insensitive). */
function samplesFormatOf(file: string): SamplesFormat {
  const extension = extname(file).toLowerCase();
  const format = FORMATS.get(extension);
  if (format) return format;
  throw new InputError(
    extension === ''
      ? `the samples file has no extension (${KNOWN_FORMATS})`
      : `unsupported samples format ${JSON.stringify(extension)} (${KNOWN_FORMATS})`,
    { file },
  );
}

/** Reads a --samples file: its texts and (when `options.labels` is given) checked gold labels. */
export async function readSamplesFile(path: string, options: ReadSamplesOptions): Promise<SampleRecord[]> {
  const file = resolve(path);
  samplesFormatOf(file);
  const bytes = await readFile(file).catch((error: unknown) => {
    const { code, message } = error as NodeJS.ErrnoException; // readFile rejects with an errno error
    throw new InputError(
      code === 'ENOENT' ? 'the samples file does not exist' : `the samples file cannot be read (${code ?? message})`,
      { file },
    );
  });
  return parseSamplesBytes(file, bytes, options);
}

/** The same as readSamplesFile, from the bytes (pure: for tests and fuzzing). */
export function parseSamplesBytes(file: string, bytes: Uint8Array, options: ReadSamplesOptions): SampleRecord[] {
  const format = samplesFormatOf(file);
  const text = decodeUtf8(bytes, file);
  if (text.trim() === '')
    throw new InputError(
      text === '' ? 'the samples file is empty' : 'the samples file has no texts (only blank lines)',
      { file },
    );
  const schema = options.labels ? new LabelSchema(options.labels) : undefined;
  switch (format) {
    case 'seed-json':
      return readSeedData(file, text, schema);
    case 'jsonl':
      return readJsonLines(file, text, schema);
    case 'csv':
      return readDelimited(file, text, ',', options, schema);
    case 'tsv':
      return readDelimited(file, text, '\t', options, schema);
    case 'txt':
      return readTextLines(text);
  }
}

/** Fails fast on a --samples file that is missing or of an unknown format (before the bridge starts). */
export function checkSamplesFile(path: string): void {
  const file = resolve(path);
  samplesFormatOf(file);
  if (!existsSync(file)) throw new InputError('the samples file does not exist', { file });
}
