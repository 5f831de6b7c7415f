import { existsSync, statSync } from 'node:fs';
import { DEFAULT_BATCH_SIZE } from '../options/predict.js';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { TextTokenizer } from '../tokenizer/tokenizer.js';
import { checkBundleFiles } from '../verify/bundle-check.js';
import { ClassifierSession } from '../onnx/session.js';
import { lengthSortedBatches } from './batches.js';
import { graphRuns, paddedBatch, runGraph, tokenizeAll, type GraphRun } from './graph-run.js';
import { topPredictions, type Prediction } from './softmax.js';
import {
  parseVariant,
  readBundleMultihead,
  readBundleTasks,
  type BundleMultihead,
  type BundleTask,
  type Variant,
} from './task-files.js';

export type { Prediction } from './softmax.js';
export type { Variant } from './task-files.js';

export interface LoadBundleOptions {
  /** int8 (default), fp32 or fp16; a task without a graph of that variant falls back to FP32 (see `notes`). */
  variant?: Variant | (string & {});
  /** Called with each note (e.g. the INT8 fallback) as it arises. */
  onNote?: (note: string) => void;
  /**
   * Run multihead.onnx (one encoder pass for every task) when several tasks are asked and the bundle
   * has it for their variant (default true); false: one session per task.
   */
  multihead?: boolean;
}

export interface PredictOptions {
  /** Tasks to predict (default: all of the bundle's). */
  tasks?: readonly string[];
  /** Texts per graph run (default 32). */
  batchSize?: number;
  /** Tokenizer max_length (default: each task config's max_length). */
  maxLength?: number;
  /** Called after each batch with the number of texts done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Per text (in input order): task -> label and confidence. */
export type TextPredictions = Record<string, Prediction>;

export interface LoadedBundle {
  readonly dir: string;
  /** The variant asked for; tasks without it use FP32 (see `taskVariant`). */
  readonly variant: Variant;
  readonly tasks: readonly BundleTask[];
  /** Notes about the load, e.g. "no INT8 graph for task x: using FP32". */
  readonly notes: readonly string[];
  /** The variant each task's graph actually is. */
  taskVariant(task: string): Variant;
  /** The graph files of the sessions opened so far (sessions open on first use). */
  openGraphs(): string[];
  predict(texts: readonly string[], options?: PredictOptions): Promise<TextPredictions[]>;
  close(): Promise<void>;
}

/**
 * Opens a bundle for prediction in Node (onnxruntime-node and the bundle's tokenizer.json, no Python).
 * The bundle must match its manifest (sizes and sha256 of every file) and be verified, else nothing runs.
 */
export async function loadBundle(dir: string, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new InputError('the bundle directory does not exist', { file: root });
  const variant = parseVariant(options.variant ?? 'int8');
  const manifest = await checkBundleFiles(root);
  if (!manifest.verified) {
    throw new InputError(
      'the bundle did not pass verification (manifest.json says "verified": false; see parity-report.md): predict runs only verified bundles',
      { file: root },
    );
  }
  const tokenizerDir = join(root, 'tokenizer');
  if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) {
    throw new InputError(
      'the bundle has no tokenizer (tokenizer/tokenizer.json), so predict cannot tokenize texts: re-export the model',
      { file: root },
    );
  }
  const tokenizer = TextTokenizer.load(tokenizerDir);
  const tasks = readBundleTasks(root, manifest);
  const multihead = options.multihead === false ? undefined : readBundleMultihead(root, manifest);
  const notes: string[] = [];
  const graphVariant = new Map<string, Variant>();
  for (const task of tasks) {
    graphVariant.set(task.name, task.graphs[variant] ? variant : 'fp32');
  }
  const fallback = tasks.filter((task) => graphVariant.get(task.name) !== variant).map((task) => task.name);
  if (fallback.length > 0) {
    const note = `note: ${fallback.length === tasks.length ? 'the bundle has' : `task${fallback.length > 1 ? 's' : ''} ${fallback.join(', ')} ha${fallback.length > 1 ? 've' : 's'}`} no ${variant.toUpperCase()} graph; using FP32`;
    notes.push(note);
    options.onNote?.(note);
  }
  return new BundlePredictor(root, variant, tasks, notes, graphVariant, tokenizer, multihead);
}

/** One graph run per batch: its file and, per task, the output to read (undefined: the graph's only output, "logits"). */
class BundlePredictor implements LoadedBundle {
  private readonly sessions = new Map<string, Promise<ClassifierSession>>();
  private closed = false;

  constructor(
    readonly dir: string,
    readonly variant: Variant,
    readonly tasks: readonly BundleTask[],
    readonly notes: readonly string[],
    private readonly graphVariant: ReadonlyMap<string, Variant>,
    private readonly tokenizer: TextTokenizer,
    private readonly multihead: BundleMultihead | undefined,
  ) {}

  openGraphs(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * The graphs that predict these tasks: the multihead graph when there are several, all of one
   * variant, and the bundle has that variant's multihead graph with their outputs; else one per task.
   */
  private graphRuns(tasks: readonly BundleTask[]): GraphRun[] {
    const variants = new Set(tasks.map((task) => this.taskVariant(task.name)));
    const file = variants.size === 1 ? this.multihead?.graphs[[...variants][0]!] : undefined;
    const multihead = this.multihead ? { file, outputs: this.multihead.outputs } : undefined;
    return graphRuns(tasks, multihead, (task) => task.graphs[this.taskVariant(task.name)]!);
  }

  taskVariant(task: string): Variant {
    const variant = this.graphVariant.get(task);
    if (!variant) throw this.unknownTask(task);
    return variant;
  }

  private unknownTask(task: string): InputError {
    return new InputError(`unknown task "${task}": the bundle has ${this.tasks.map((t) => t.name).join(', ')}`);
  }

  /** Sessions open on first use (by graph file), so that predicting one task loads one graph. */
  private session(file: string): Promise<ClassifierSession> {
    let session = this.sessions.get(file);
    if (!session) {
      session = ClassifierSession.open(file);
      this.sessions.set(file, session);
    }
    return session;
  }

  private selectTasks(names: readonly string[] | undefined): BundleTask[] {
    if (!names) return [...this.tasks];
    if (names.length === 0) throw new InputError('no task given');
    return [...new Set(names)].map((name) => {
      const task = this.tasks.find((candidate) => candidate.name === name);
      if (!task) throw this.unknownTask(name);
      return task;
    });
  }

  async predict(texts: readonly string[], options: PredictOptions = {}): Promise<TextPredictions[]> {
    if (this.closed) throw new Error('the bundle is closed');
    const tasks = this.selectTasks(options.tasks);
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new InputError(`batch size must be a positive integer, got ${batchSize}`);
    if (options.maxLength !== undefined && (!Number.isInteger(options.maxLength) || options.maxLength < 1)) {
      throw new InputError(`max length must be a positive integer, got ${options.maxLength}`);
    }
    const results: TextPredictions[] = texts.map(() => ({}));
    // tasks tokenized alike share one tokenization (normally all of them: one tokenizer, one max_length)
    const groups = new Map<number, BundleTask[]>();
    const modelMaxLength = this.tokenizer.settings.modelMaxLength;
    for (const task of tasks) {
      const maxLength = options.maxLength ?? task.maxLength;
      if (modelMaxLength !== undefined && maxLength > modelMaxLength) {
        throw new InputError(
          `max length ${maxLength} is above the model's ${modelMaxLength} tokens (model_max_length of tokenizer/tokenizer_config.json)`,
        );
      }
      groups.set(maxLength, [...(groups.get(maxLength) ?? []), task]);
    }
    const total = texts.length * groups.size;
    let done = 0;
    for (const [maxLength, groupTasks] of groups) {
      const tokens = await tokenizeAll(this.tokenizer, texts, maxLength);
      const runs = this.graphRuns(groupTasks);
      const sessions = await Promise.all(runs.map((run) => this.session(run.file)));
      for (const indices of lengthSortedBatches(
        tokens.map((ids) => ids.length),
        batchSize,
      )) {
        const batch = paddedBatch(this.tokenizer, tokens, indices);
        for (const [position, run] of runs.entries()) {
          for (const [task, logits] of await runGraph(run, sessions[position]!, batch)) {
            topPredictions(logits.data, logits.rows, task.labels).forEach((prediction, row) => {
              results[indices[row]!]![task.name] = prediction;
            });
          }
        }
        done += indices.length;
        options.onProgress?.(done, total);
      }
    }
    // tasks in the order asked for, whatever the grouping
    return results.map((row) => Object.fromEntries(tasks.map((task) => [task.name, row[task.name]!])));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sessions = await Promise.allSettled(this.sessions.values());
    for (const session of sessions) if (session.status === 'fulfilled') await session.value.release();
    this.sessions.clear();
  }
}
