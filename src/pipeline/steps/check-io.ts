import { checkOutputDir } from '../../bundle/atomic.js';
import { acquireOutputLock } from '../../bundle/output-lock.js';
import { checkModelDir } from '../../export/model-dir.js';
import { checkSamplesFile } from '../../samples/read.js';
import type { Step } from '../context.js';

/** The model directory's layout, and an output that may be written (then claimed for this run). */
export const checkInputAndOutput: Step = {
  title: 'Check input and output',
  async run(c) {
    const checked = checkModelDir(c.options.modelDir);
    c.modelDir = checked.dir;
    c.format = checked.format;
    for (const file of c.options.samples) checkSamplesFile(file);
    await checkOutputDir(c.outDir, c.modelDir, c.options.force);
    c.releaseOutput = await acquireOutputLock(c.outDir);
  },
};
