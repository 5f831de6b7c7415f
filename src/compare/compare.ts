import { basename } from 'node:path';
import type { GateResult } from '../config/report.js';
import { InputError } from '../errors.js';
import type { CompareOptions } from '../options/compare.js';
import type { Variant } from '../plan/variants.js';
import type { BundleTask } from '../predict/task-files.js';
import { graphBytes, openComparedBundle, type ComparedBundle } from './bundle.js';
import { evaluateCompareGates, type CompareGateLimits } from './gates.js';
import { compareTaskLogits, matchLabels, type LabelMatch, type TaskVariantMetrics } from './metrics.js';
import { runVariant, type VariantRun } from './run.js';
import { planComparison } from './select.js';
import { comparedTexts, type ComparedTexts } from './texts.js';

export interface ReleaseSummary {
  dir: string;
  createdAt: string;
  toolVersion: string;
  verified: boolean;
  tasks: string[];
  /** Bytes of every file of the bundle. */
  bytes: number;
}

export interface TaskVariantComparison {
  task: string;
  variant: Variant;
  labels: LabelMatch;
  metrics: TaskVariantMetrics;
  /** Bytes of the task's graph and weights of this variant. */
  size: { old: number; new: number; delta: number };
  maxLength: { old: number; new: number };
  gates: GateResult[];
  passed: boolean;
}

export interface VariantLatency {
  variant: Variant;
  /** Milliseconds of graph run per text, at the batch size, over every compared task. */
  oldMsPerText: number;
  newMsPerText: number;
  /** new / old (above 1: the new release is slower). */
  ratio: number;
}

export interface CompareResult {
  passed: boolean;
  old: ReleaseSummary;
  new: ReleaseSummary;
  texts: { count: number; stored: number; samples: number; labelled: number };
  tokenizer: { same: boolean };
  tasks: { compared: string[]; onlyOld: string[]; onlyNew: string[] };
  comparisons: TaskVariantComparison[];
  latency: VariantLatency[];
  limits: CompareGateLimits;
  /** What the reader should know: skipped variants, another tokenizer, an unverified bundle. */
  notes: string[];
}

type Options = Omit<CompareOptions, 'json' | 'progress' | 'md' | 'html' | 'junit'>;

function summary(bundle: ComparedBundle): ReleaseSummary {
  const { manifest } = bundle;
  return {
    dir: bundle.dir,
    createdAt: manifest.createdAt,
    toolVersion: manifest.tool.version,
    verified: manifest.verified,
    tasks: bundle.tasks.map((task) => task.name),
    bytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
  };
}

function bundleNotes(old: ComparedBundle, candidate: ComparedBundle, sameTokenizer: boolean): string[] {
  const notes: string[] = [];
  if (!sameTokenizer)
    notes.push('the tokenizers differ (tokenizer/tokenizer.json): each release tokenizes the texts with its own');
  for (const bundle of [old, candidate]) {
    if (!bundle.manifest.verified)
      notes.push(`the ${bundle.role} bundle is not verified (manifest.json: "verified": false)`);
  }
  return notes;
}

const taskOf = (bundle: ComparedBundle, name: string): BundleTask => bundle.tasks.find((task) => task.name === name)!;

/** Runs one variant of both releases on the texts and compares each task's predictions. */
async function compareVariant(
  [old, candidate]: [ComparedBundle, ComparedBundle],
  variant: Variant,
  tasks: readonly string[],
  texts: ComparedTexts,
  batchSize: number,
  limits: CompareGateLimits,
  onProgress: (line: string) => void,
): Promise<{ comparisons: TaskVariantComparison[]; latency: VariantLatency }> {
  const runs: VariantRun[] = [];
  for (const bundle of [old, candidate]) {
    const run = await runVariant(
      bundle,
      tasks.map((name) => taskOf(bundle, name)),
      variant,
      texts.texts,
      batchSize,
    );
    const graphs = run.graphs.map((file) => basename(file)).join(', ');
    onProgress(`compare: ${bundle.role} ${variant}: ${graphs} in ${(run.runMs / 1000).toFixed(2)} s`);
    runs.push(run);
  }
  const [oldRun, newRun] = runs as [VariantRun, VariantRun];
  const comparisons = tasks.map((task): TaskVariantComparison => {
    const [a, b] = [taskOf(old, task), taskOf(candidate, task)];
    const metrics = compareTaskLogits(
      { labels: a.labels, logits: oldRun.logits[task]! },
      { labels: b.labels, logits: newRun.logits[task]! },
      texts.texts,
      texts.gold,
      task,
    );
    const gates = evaluateCompareGates(variant, metrics, limits);
    const size = { old: graphBytes(old, task, variant), new: graphBytes(candidate, task, variant) };
    return {
      task,
      variant,
      labels: matchLabels(a.labels, b.labels),
      metrics,
      size: { ...size, delta: size.new - size.old },
      maxLength: { old: a.maxLength, new: b.maxLength },
      gates,
      passed: gates.every((gate) => gate.passed),
    };
  });
  const count = texts.texts.length;
  return {
    comparisons,
    latency: {
      variant,
      oldMsPerText: oldRun.runMs / count,
      newMsPerText: newRun.runMs / count,
      ratio: oldRun.runMs === 0 ? 1 : newRun.runMs / oldRun.runMs,
    },
  };
}

/**
 * Runs two releases of a model on the same texts in onnxruntime-node and compares them per task and
 * variant: agreement (95% Wilson interval), the changed texts, accuracy with labels, logit shift, size
 * and latency, label-set changes, and the gates. Bad input (not a bundle, a manifest mismatch, no common
 * task, a --variant one bundle lacks) is an InputError before any graph runs; a failed gate is not an
 * error here: `passed` is false.
 */
export async function compareReleases(
  oldDir: string,
  newDir: string,
  options: Options,
  onProgress: (line: string) => void = () => {},
): Promise<CompareResult> {
  const old = await openComparedBundle(oldDir, 'old');
  const candidate = await openComparedBundle(newDir, 'new');
  const plan = planComparison(old, candidate, { tasks: options.tasks, variants: options.variants });
  const texts = await comparedTexts(old, candidate, options);
  if (texts.texts.length === 0) {
    throw new InputError('no texts to compare on: neither bundle stores texts and no --samples were given', {
      file: candidate.dir,
    });
  }
  if (options.maxAccuracyDrop !== undefined && texts.gold.every((labels) => Object.keys(labels).length === 0)) {
    throw new InputError('--max-accuracy-drop needs texts with gold labels: give them with --samples (labels by name)');
  }
  const sameTokenizer = old.tokenizerSha256 === candidate.tokenizerSha256;
  const notes = [...bundleNotes(old, candidate, sameTokenizer), ...plan.skipped.map((line) => `not compared: ${line}`)];
  onProgress(
    `compare: ${texts.texts.length} texts (${texts.sources.stored} stored in the bundles, ${texts.sources.samples} from --samples)`,
  );
  const limits: CompareGateLimits = {
    minAgreement: options.minAgreement,
    ...(options.maxAccuracyDrop !== undefined ? { maxAccuracyDrop: options.maxAccuracyDrop } : {}),
  };
  const comparisons: TaskVariantComparison[] = [];
  const latency: VariantLatency[] = [];
  for (const { variant, tasks } of plan.variants) {
    const compared = await compareVariant(
      [old, candidate],
      variant,
      tasks,
      texts,
      options.batchSize,
      limits,
      onProgress,
    );
    comparisons.push(...compared.comparisons);
    latency.push(compared.latency);
  }
  return {
    passed: comparisons.every((comparison) => comparison.passed),
    old: summary(old),
    new: summary(candidate),
    texts: {
      count: texts.texts.length,
      ...texts.sources,
      labelled: texts.gold.filter((labels) => Object.keys(labels).length > 0).length,
    },
    tokenizer: { same: sameTokenizer },
    tasks: { compared: plan.tasks, onlyOld: plan.onlyOld, onlyNew: plan.onlyNew },
    comparisons,
    latency,
    limits,
    notes,
  };
}
