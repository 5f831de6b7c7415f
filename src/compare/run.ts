import { InputError } from '../errors.js';
import type { Variant } from '../plan/variants.js';
import { lengthSortedBatches } from '../predict/batches.js';
import type { BundleTask } from '../predict/task-files.js';
import { ClassifierSession, type TokenizedBatch } from '../onnx/session.js';
import type { ComparedBundle } from './bundle.js';

/** Texts tokenized per call (keeps memory flat on long --samples files). */
const TOKENIZE_CHUNK = 1024;

/** One task's logits on every text, in text order: row-major [texts, labels]. */
export interface TaskLogits {
  labels: number;
  data: Float32Array;
}

export interface VariantRun {
  /** task -> logits of every text. */
  logits: Record<string, TaskLogits>;
  /** Milliseconds in onnxruntime's runs (tokenizing and loading excluded), for all the texts. */
  runMs: number;
  /** The graph files run. */
  graphs: string[];
}

/** One graph and the tasks it gives: the multihead graph (an output per task) or a task's own graph. */
interface GraphPlan {
  file: string;
  outputs: Array<[task: BundleTask, output: string | undefined]>;
}

/** The multihead graph of the variant when it has every task's output, else one graph per task (as predict). */
function graphPlans(bundle: ComparedBundle, tasks: readonly BundleTask[], variant: Variant): GraphPlan[] {
  const multihead = bundle.multihead;
  const file = multihead?.graphs[variant];
  if (file && tasks.length > 1 && tasks.every((task) => Object.hasOwn(multihead.outputs, task.name))) {
    return [{ file, outputs: tasks.map((task) => [task, multihead.outputs[task.name]]) }];
  }
  return tasks.map((task) => {
    const graph = task.graphs[variant];
    if (!graph) throw new InputError(`the ${bundle.role} bundle has no ${variant} graph for task "${task.name}"`);
    return { file: graph, outputs: [[task, undefined]] };
  });
}

async function runPlan(session: ClassifierSession, plan: GraphPlan, batch: TokenizedBatch) {
  const names = plan.outputs.map(([, output]) => output ?? session.outputNames[0]!);
  const outputs = await session.runAll(batch, names);
  return plan.outputs.map(([task], index) => [task, outputs[names[index]!]!] as const);
}

/**
 * Runs one variant of a bundle on every text for the given tasks, tokenized by the bundle's own
 * tokenizer at each task's max_length, in length-sorted batches; logits come back in text order.
 */
export async function runVariant(
  bundle: ComparedBundle,
  tasks: readonly BundleTask[],
  variant: Variant,
  texts: readonly string[],
  batchSize: number,
): Promise<VariantRun> {
  const logits: Record<string, TaskLogits> = {};
  for (const task of tasks) logits[task.name] = { labels: task.labels.length, data: new Float32Array(0) };
  let runMs = 0;
  const graphs: string[] = [];
  const byLength = new Map<number, BundleTask[]>();
  for (const task of tasks) byLength.set(task.maxLength, [...(byLength.get(task.maxLength) ?? []), task]);
  for (const [maxLength, group] of byLength) {
    const tokens: number[][] = [];
    for (let start = 0; start < texts.length; start += TOKENIZE_CHUNK) {
      tokens.push(...(await bundle.tokenizer.tokenize(texts.slice(start, start + TOKENIZE_CHUNK), maxLength)));
    }
    for (const task of group) logits[task.name]!.data = new Float32Array(texts.length * task.labels.length);
    for (const plan of graphPlans(bundle, group, variant)) {
      const session = await ClassifierSession.open(plan.file);
      graphs.push(plan.file);
      try {
        for (const indices of lengthSortedBatches(
          tokens.map((ids) => ids.length),
          batchSize,
        )) {
          const padded = bundle.tokenizer.pad(indices.map((index) => tokens[index]!));
          const shape = [padded.rows, padded.width];
          const batch: TokenizedBatch = {
            inputIds: { dtype: 'int64', shape, data: padded.inputIds },
            attentionMask: { dtype: 'int64', shape, data: padded.attentionMask },
          };
          const started = performance.now();
          const outputs = await runPlan(session, plan, batch);
          runMs += performance.now() - started;
          for (const [task, output] of outputs) scatterRows(logits[task.name]!, output, indices, plan.file, task);
        }
      } finally {
        await session.release();
      }
    }
  }
  return { logits, runMs, graphs };
}

/** Writes a batch's rows back to their texts' places. */
function scatterRows(
  target: TaskLogits,
  output: { rows: number; labels: number; data: Float32Array },
  indices: readonly number[],
  file: string,
  task: BundleTask,
): void {
  if (output.labels !== target.labels) {
    throw new InputError(
      `the graph of task "${task.name}" gives ${output.labels} logits, its config has ${target.labels} labels`,
      { file },
    );
  }
  indices.forEach((textIndex, row) => {
    target.data.set(output.data.subarray(row * output.labels, (row + 1) * output.labels), textIndex * target.labels);
  });
}
