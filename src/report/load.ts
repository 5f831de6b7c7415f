import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parityReportSchema, type ParityReport } from '../config/report.js';
import { describeFirstIssue } from '../config/zod-issues.js';
import { InputError } from '../errors.js';
import { REPORT_JSON_FILE, taskConfigFile, VERIFICATION_FILE } from '../plan/files.js';
import type { RenderContext } from './facts.js';

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`is not valid JSON (${(error as Error).message})`, { file });
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What bundles written before a field existed lack, filled so that the sections about it are left out. */
function withOldDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const tasks: unknown[] = Array.isArray(raw.tasks) ? raw.tasks : [];
  const filled = tasks.map((task) => {
    if (!isObject(task)) return task;
    const gates: unknown[] = Array.isArray(task.gates) ? task.gates : [];
    const comparisons = isObject(task.comparisons) ? task.comparisons : {};
    const metrics = Object.fromEntries(
      Object.entries(comparisons).map(([key, m]) => [key, isObject(m) ? { worst: [], ...m } : m]),
    );
    const passed = gates.every((gate) => isObject(gate) && gate.passed === true);
    return { gates, passed, ...task, comparisons: metrics };
  });
  const passed = filled.every((task) => isObject(task) && task.passed === true);
  return {
    createdAt: '',
    tool: { name: 'rapidfit-export', version: 'unknown' },
    model: { dir: 'unknown', format: 'unknown' },
    environment: {},
    passed,
    ...raw,
    samples: { source: 'unknown', seed: 0, count: 0, maxLength: 0, ...(isObject(raw.samples) ? raw.samples : {}) },
    tasks: filled,
  };
}

/** Texts per split from verification.json, for bundles whose report predates `samples.splits`. */
function splitsFromVerification(dir: string): ParityReport['samples']['splits'] | undefined {
  const file = join(dir, VERIFICATION_FILE);
  if (!existsSync(file)) return undefined;
  const raw = readJson(file);
  if (!isObject(raw) || !Array.isArray(raw.batches))
    throw new InputError('has no batches: not a verification file', { file });
  const splits = { calibration: 0, judged: 0, embedded: 0 };
  for (const batch of raw.batches) {
    if (!isObject(batch) || !Array.isArray(batch.texts)) continue;
    const split = batch.split === 'calibration' || batch.split === 'embedded' ? batch.split : 'judged';
    splits[split] += batch.texts.length;
  }
  return splits;
}

/** Label names per task from the bundle's <task>_config.json files, where they are readable. */
function labelsOf(dir: string, report: ParityReport): RenderContext['labels'] {
  const labels: NonNullable<RenderContext['labels']> = {};
  for (const { task } of report.tasks) {
    const file = join(dir, taskConfigFile(task));
    if (!existsSync(file)) continue;
    const config = readJson(file);
    if (isObject(config) && isObject(config.id2label)) labels[task] = config.id2label as Record<string, string>;
  }
  return labels;
}

/** A bundle's parity report (old bundles included) and what the renderers want beside it. */
export function loadBundleReport(dir: string): { report: ParityReport; context: RenderContext } {
  if (!existsSync(dir)) throw new InputError('the bundle directory does not exist', { file: dir });
  if (!statSync(dir).isDirectory())
    throw new InputError('is not a directory (report takes a bundle directory)', { file: dir });
  const file = join(dir, REPORT_JSON_FILE);
  if (!existsSync(file))
    throw new InputError(`has no ${REPORT_JSON_FILE}: not a rapidfit-export bundle`, { file: dir });
  const raw = readJson(file);
  if (!isObject(raw) || raw.schema !== 'rapidfit-export/parity-report')
    throw new InputError('is not a rapidfit-export parity report (its "schema" field differs)', { file });
  const parsed = parityReportSchema.safeParse(withOldDefaults(raw));
  if (!parsed.success) throw new InputError(describeFirstIssue(parsed.error), { file });
  const report = parsed.data;
  if (!report.samples.splits) {
    const splits = splitsFromVerification(dir);
    if (splits) report.samples.splits = splits;
  }
  return { report, context: { labels: labelsOf(dir, report) } };
}
