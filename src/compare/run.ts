import { InputError } from '../errors.js';
import type { Variant } from '../plan/variants.js';
import { lengthSortedBatches } from '../predict/batches.js';
import type { BundleTask } from '../predict/task-files.js';
import type { LogitsBatch } from '../metrics/logits.js';
import { ClassifierSession } from '../onnx/session.js';
import { graphRuns, paddedBatch, runGraph, tokenizeAll, type GraphRun } from '../predict/graph-run.js';
import type { ComparedBundle } from './bundle.js';

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

/** The multihead graph of the variant when it has every task's output, else one graph per task (as predict). */
function variantGraphs(bundle: ComparedBundle, tasks: readonly BundleTask[], variant: Variant): GraphRun[] {
  const multihead = bundle.multihead && { file: bundle.multihead.graphs[variant], outputs: bundle.multihead.outputs };
  return graphRuns(tasks, multihead, (task) => {
    const graph = task.graphs[variant];
    if (!graph) throw new InputError(`the ${bundle.role} bundle has no ${variant} graph for task "${task.name}"`);
    return graph;
  });
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
    const tokens = await tokenizeAll(bundle.tokenizer, texts, maxLength);
    for (const task of group) logits[task.name]!.data = new Float32Array(texts.length * task.labels.length);
    for (const plan of variantGraphs(bundle, group, variant)) {
      const session = await ClassifierSession.open(plan.file);
      graphs.push(plan.file);
      try {
        for (const indices of lengthSortedBatches(
          tokens.map((ids) => ids.length),
          batchSize,
        )) {
          const batch = paddedBatch(bundle.tokenizer, tokens, indices);
          const started = performance.now();
          const outputs = await runGraph(plan, session, batch);
          runMs += performance.now() - started;
          for (const [task, output] of outputs) scatterRows(logits[task.name]!, output, indices);
        }
      } finally {
        await session.release();
      }
    }
  }
  return { logits, runMs, graphs };
}

/** Writes a batch's rows back to their texts' places (runGraph has checked the label count). */
function scatterRows(target: TaskLogits, output: LogitsBatch, indices: readonly number[]): void {
  indices.forEach((textIndex, row) => {
    target.data.set(output.data.subarray(row * output.labels, (row + 1) * output.labels), textIndex * target.labels);
  });
}
