import { InputError } from '../errors.js';
import { JsonSyntaxError, scanSeedLayout, type KeyLayout } from './json-layout.js';
import type { Fail, LabelSchema } from './labels.js';
import { describeJson, isJsonObject, LineIndex, quote } from './text.js';
import type { SampleRecord } from './types.js';

const SEED_SHAPE = 'an object of task -> [{"text", "label"}]';

/**
 * RapidFit seed data, the dict MultiheadClassifier.train() takes: {"<task>": [{"text", "label"}, ...]}.
 * One record per entry (a text under two tasks gives two records; merging joins them), located at the
 * line where the entry starts. Without a schema only the texts are read.
 */
export function readSeedData(file: string, text: string, schema: LabelSchema | undefined): SampleRecord[] {
  const lines = new LineIndex(text);
  const parsed = parseJson(file, text, lines);
  const layout = scanSeedLayout(text);
  if (!isJsonObject(parsed))
    throw new InputError(
      `line ${lines.lineOf(layout.rootOffset)}: expected seed data: ${SEED_SHAPE}, not ${describeJson(parsed)}`,
      { file },
    );
  refuseDuplicateTasks(file, layout.keys, lines);
  const records: SampleRecord[] = [];
  for (const key of layout.keys) {
    const line = lines.lineOf(key.offset);
    const fail = (message: string): never => {
      throw new InputError(`line ${line}: ${message}`, { file });
    };
    schema?.requireTask(key.name, fail);
    const entries = parsed[key.name];
    if (!Array.isArray(entries))
      fail(`task ${quote(key.name)} must be an array of {"text", "label"} entries, not ${describeJson(entries)}`);
    else readEntries(file, key, entries, lines, schema, records);
  }
  if (records.length === 0)
    throw new InputError('the samples file has no texts (the seed data has no entries)', { file });
  return records;
}

/** JSON.parse's message, at the line where the scanner finds the error. */
function parseJson(file: string, text: string, lines: LineIndex): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
    let offset: number | undefined;
    try {
      scanSeedLayout(text);
    } catch (scanError) {
      if (scanError instanceof JsonSyntaxError) offset = scanError.offset;
    }
    const where = offset === undefined ? '' : `line ${lines.lineOf(offset)}: `;
    throw new InputError(`${where}the samples file is not JSON: ${reason}`, { file });
  }
}

/** JSON.parse would keep only the last of two equal keys, silently dropping the first task's entries. */
function refuseDuplicateTasks(file: string, keys: readonly KeyLayout[], lines: LineIndex): void {
  const first = new Map<string, number>();
  for (const key of keys) {
    const earlier = first.get(key.name);
    if (earlier !== undefined)
      throw new InputError(
        `line ${lines.lineOf(key.offset)}: task ${quote(key.name)} appears twice (first on line ${lines.lineOf(earlier)})`,
        { file },
      );
    first.set(key.name, key.offset);
  }
}

function readEntries(
  file: string,
  key: KeyLayout,
  entries: readonly unknown[],
  lines: LineIndex,
  schema: LabelSchema | undefined,
  records: SampleRecord[],
): void {
  const task = key.name;
  entries.forEach((entry, index) => {
    const location = `line ${lines.lineOf(key.elements[index] ?? key.offset)}`;
    const fail: Fail = (message) => {
      throw new InputError(`${location}: ${message}`, { file });
    };
    const which = `entry ${index + 1} of task ${quote(task)}`;
    if (!isJsonObject(entry)) return fail(`${which} must be an object {"text", "label"}, not ${describeJson(entry)}`);
    if (typeof entry.text !== 'string') return fail(`${which} has no "text" string`);
    if (!schema) return records.push({ text: entry.text, labels: {}, location });
    if (entry.label === undefined) return fail(`${which} has no "label" string`);
    const label = schema.requireLabel(task, entry.label, fail);
    return records.push({ text: entry.text, labels: Object.fromEntries([[task, label]]), location });
  });
}
