import { InputError } from '../errors.js';
import type { Fail, LabelSchema } from './labels.js';
import { describeJson, isJsonObject, splitLines } from './text.js';
import type { SampleRecord } from './types.js';

/** Plain text: one text per line, blank lines skipped (but counted), no labels. */
export function readTextLines(text: string): SampleRecord[] {
  const records: SampleRecord[] = [];
  splitLines(text).forEach((line, index) => {
    if (line.trim() !== '') records.push({ text: line, labels: {}, location: `line ${index + 1}` });
  });
  return records;
}

/**
 * JSON Lines: {"text": "...", "labels": {"<task>": "<label>"}} per line ("labels" optional, a null label
 * meaning none), or {"text": "...", "label": "..."} for a one-task model. Blank lines skipped but counted.
 */
export function readJsonLines(file: string, text: string, schema: LabelSchema | undefined): SampleRecord[] {
  const records: SampleRecord[] = [];
  splitLines(text).forEach((line, index) => {
    if (line.trim() !== '') records.push(readJsonLine(file, line, index + 1, schema));
  });
  return records;
}

function readJsonLine(file: string, line: string, number: number, schema: LabelSchema | undefined): SampleRecord {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    throw new InputError(`line ${number} is not JSON`, { file });
  }
  if (!isJsonObject(entry) || typeof entry.text !== 'string')
    throw new InputError(`line ${number} has no "text" string`, { file });
  const location = `line ${number}`;
  const fail: Fail = (message) => {
    throw new InputError(`${location}: ${message}`, { file });
  };
  const labels = schema ? readLineLabels(entry, schema, fail) : {};
  return { text: entry.text, labels, location };
}

function readLineLabels(entry: Record<string, unknown>, schema: LabelSchema, fail: Fail): Record<string, string> {
  const single = Object.hasOwn(entry, 'label') ? entry.label : undefined;
  const several = Object.hasOwn(entry, 'labels') ? entry.labels : undefined;
  let given: Array<[string, unknown]> = [];
  if (single !== undefined) {
    if (several !== undefined) fail('give "label" or "labels", not both');
    if (schema.onlyTask === undefined) fail('"label" needs a one-task model; use "labels": {"<task>": ...}');
    given = [[schema.onlyTask, single]];
  } else if (several !== undefined && several !== null) {
    if (!isJsonObject(several)) fail(`"labels" must be an object of task -> label name, not ${describeJson(several)}`);
    given = Object.entries(several);
  }
  const labels: Array<[string, string]> = [];
  for (const [task, label] of given) {
    schema.requireTask(task, fail);
    if (label !== null) labels.push([task, schema.requireLabel(task, label, fail)]);
  }
  return Object.fromEntries(labels);
}
