import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { TOKENIZER_DIR } from '../../plan/files.js';
import { TextTokenizer } from '../../tokenizer/tokenizer.js';
import { runReference } from '../reference-run.js';
import { byLength } from '../../verify/samples.js';
import type { Step } from '../context.js';

/**
 * Tokens per text by the saved tokenizer, run in Node (the configs step proved it tokenizes as the
 * model's does); characters when it cannot run in Node (no tokenizer.json).
 */
async function tokenCounts(dir: string, texts: readonly string[], maxLength: number): Promise<number[]> {
  let tokenizer: TextTokenizer;
  try {
    tokenizer = TextTokenizer.load(dir);
  } catch (error) {
    if (error instanceof InputError) return texts.map((text) => text.length);
    throw error;
  }
  return (await tokenizer.tokenize(texts, maxLength)).map((ids) => ids.length);
}

/**
 * The verification texts (split for INT8 auto: calibrate / judge; each split in order of token count,
 * so that batches pad little), tokenized and run through PyTorch in the bridge.
 */
export const runPyTorch: Step = {
  title: 'Run PyTorch on the samples',
  timing: 'reference',
  async run(c, task) {
    const lengths = await tokenCounts(join(c.staging!, TOKENIZER_DIR), c.samples!.texts, c.options.maxLength);
    const lengthOf = new Map(c.samples!.texts.map((text, index) => [text, lengths[index]!]));
    c.samples = byLength(c.samples!, lengths);
    c.tokenLengths = c.samples.texts.map((text) => lengthOf.get(text)!);
    c.reference = await runReference({
      bridge: c.bridge!.client,
      modelDir: c.modelDir,
      ...(c.options.taskName ? { taskName: c.options.taskName } : {}),
      tasks: c.tasks,
      samples: c.samples,
      maxLength: c.options.maxLength,
      workDir: join(c.workDir!, 'reference'),
      onProgress: (message) => (task.output = message),
    });
    // the last bridge call of the run: the interpreter's teardown (~2 s with torch) overlaps what follows
    c.bridgeClosing = c.bridge!.client.close().catch(() => undefined);
    task.title = `Run PyTorch on the samples: ${c.samples.texts.length} texts`;
  },
};
