import { InputError } from '../errors.js';
import { CsvSyntaxError, parseDelimited, type CsvRow } from './csv.js';
import type { LabelSchema } from './labels.js';
import { formatList, quote } from './text.js';
import type { ReadSamplesOptions, SampleRecord } from './types.js';

/** Where the text and each task's label are, by field index. */
interface ColumnPlan {
  width: number;
  text: number;
  labels: Array<[task: string, index: number]>;
}

/**
 * CSV or TSV with a header row: the text column (default "text") and, when the model's labels are
 * given, one label column per task. Empty label cells mean "no label"; other columns are ignored.
 */
export function readDelimited(
  file: string,
  text: string,
  delimiter: ',' | '\t',
  options: ReadSamplesOptions,
  schema: LabelSchema | undefined,
): SampleRecord[] {
  const rows = parseRows(file, text, delimiter);
  const [header, ...body] = rows;
  if (!header) throw new InputError('the samples file has no texts (only blank lines)', { file });
  const plan = planColumns(file, header.fields, options, schema);
  if (body.length === 0) throw new InputError('the samples file has no texts (only a header)', { file });
  return body.map((row) => readRow(file, row, plan, schema));
}

function parseRows(file: string, text: string, delimiter: ',' | '\t'): CsvRow[] {
  try {
    return parseDelimited(text, delimiter);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new InputError(`row ${error.line}: ${error.message}`, { file });
    throw error;
  }
}

function planColumns(
  file: string,
  header: readonly string[],
  options: ReadSamplesOptions,
  schema: LabelSchema | undefined,
): ColumnPlan {
  const fail = (message: string): never => {
    throw new InputError(`header: ${message}`, { file });
  };
  const columns = headerColumns(header, fail);
  const textName = options.textColumn ?? 'text';
  const text = columns.get(textName);
  if (text === undefined)
    return fail(
      `no column ${quote(textName)} (columns: ${formatList(header.map((name) => name.trim()))}); name it with --text-column`,
    );
  const labels = schema ? labelColumns(columns, text, options.labelColumns ?? {}, schema, fail) : [];
  return { width: header.length, text, labels };
}

/** Column name (trimmed) -> index; a name given twice is an error. Unnamed columns are ignored. */
function headerColumns(header: readonly string[], fail: (message: string) => never): Map<string, number> {
  const columns = new Map<string, number>();
  header.forEach((raw, index) => {
    const name = raw.trim();
    if (name === '') return;
    const first = columns.get(name);
    if (first !== undefined) fail(`column ${quote(name)} appears twice (columns ${first + 1} and ${index + 1})`);
    columns.set(name, index);
  });
  return columns;
}

/** The explicit --label-column choices, then for the other tasks their same-named column (or "label" for a one-task model). */
function labelColumns(
  columns: ReadonlyMap<string, number>,
  textIndex: number,
  explicit: Readonly<Record<string, string>>,
  schema: LabelSchema,
  fail: (message: string) => never,
): Array<[string, number]> {
  const chosen = new Map<string, number>();
  for (const [task, column] of Object.entries(explicit)) {
    const option = `--label-column ${task}=${column}`;
    schema.requireTask(task, (message) => fail(`${option}: ${message}`));
    const index = columns.get(column);
    if (index === undefined) fail(`no column ${quote(column)} for task ${quote(task)} (${option})`);
    else chosen.set(task, index);
  }
  for (const task of schema.tasks) {
    const index = columns.get(task);
    if (!chosen.has(task) && index !== undefined && index !== textIndex) chosen.set(task, index);
  }
  const only = schema.onlyTask;
  const label = columns.get('label');
  if (only !== undefined && !chosen.has(only) && label !== undefined && label !== textIndex) chosen.set(only, label);
  return [...chosen];
}

function readRow(file: string, row: CsvRow, plan: ColumnPlan, schema: LabelSchema | undefined): SampleRecord {
  const location = `row ${row.line}`;
  const fail = (message: string): never => {
    throw new InputError(`${location}: ${message}`, { file });
  };
  const count = row.fields.length;
  if (count !== plan.width) fail(`${count} field${count === 1 ? '' : 's'}, the header has ${plan.width}`);
  const labels: Array<[string, string]> = [];
  for (const [task, index] of plan.labels) {
    const cell = row.fields[index]!.trim();
    if (cell !== '') labels.push([task, schema!.requireLabel(task, cell, fail)]);
  }
  return { text: row.fields[plan.text]!, labels: Object.fromEntries(labels), location };
}
