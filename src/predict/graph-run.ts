import { InputError } from '../errors.js';
import type { LogitsBatch } from '../metrics/logits.js';
import type { ClassifierSession, TokenizedBatch } from '../onnx/session.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import type { BundleTask } from './task-files.js';

/** Texts tokenized per call: bounded memory for the tokenizer's input on large text files. */
const TOKENIZE_CHUNK = 1024;

/** One graph and the tasks it gives: the multihead graph (an output per task) or a task's own graph (undefined output). */
export interface GraphRun {
  file: string;
  outputs: Array<[BundleTask, string | undefined]>;
}

/** The multihead graph when it has every task's output (and there are several tasks), else one graph per task. */
export function graphRuns(
  tasks: readonly BundleTask[],
  multihead: { file: string | undefined; outputs: Record<string, string> } | undefined,
  taskGraph: (task: BundleTask) => string,
): GraphRun[] {
  if (multihead?.file && tasks.length > 1 && tasks.every((task) => Object.hasOwn(multihead.outputs, task.name))) {
    return [{ file: multihead.file, outputs: tasks.map((task) => [task, multihead.outputs[task.name]]) }];
  }
  return tasks.map((task) => ({ file: taskGraph(task), outputs: [[task, undefined]] }));
}

/** Each task's logits of one batch from one graph run; a graph whose label count is not its config's is exit 2. */
export async function runGraph(
  run: GraphRun,
  session: ClassifierSession,
  batch: TokenizedBatch,
): Promise<Array<[BundleTask, LogitsBatch]>> {
  const [first, firstOutput] = run.outputs[0]!;
  const results: Array<[BundleTask, LogitsBatch]> =
    firstOutput === undefined
      ? [[first, await session.run(batch)]]
      : await session
          .runAll(
            batch,
            run.outputs.map(([, output]) => output!),
          )
          .then((logits) => run.outputs.map(([task, output]) => [task, logits[output!]!]));
  for (const [task, logits] of results) {
    if (logits.labels !== task.labels.length)
      throw new InputError(
        `the graph of task "${task.name}" gives ${logits.labels} logits, its config has ${task.labels.length} labels`,
        { file: run.file },
      );
  }
  return results;
}

/** Every text's token ids at `maxLength`, tokenized in chunks. */
export async function tokenizeAll(tokenizer: TextTokenizer, texts: readonly string[], maxLength: number) {
  const tokens: number[][] = [];
  for (let start = 0; start < texts.length; start += TOKENIZE_CHUNK) {
    tokens.push(...(await tokenizer.tokenize(texts.slice(start, start + TOKENIZE_CHUNK), maxLength)));
  }
  return tokens;
}

/** The texts at `indices` padded into one graph input. */
export function paddedBatch(tokenizer: TextTokenizer, tokens: readonly number[][], indices: readonly number[]) {
  const padded = tokenizer.pad(indices.map((index) => tokens[index]!));
  const shape = [padded.rows, padded.width];
  const batch: TokenizedBatch = {
    inputIds: { dtype: 'int64', shape, data: padded.inputIds },
    attentionMask: { dtype: 'int64', shape, data: padded.attentionMask },
  };
  return batch;
}
