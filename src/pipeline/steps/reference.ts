import { join } from 'node:path';
import { runReference } from '../../verify/parity.js';
import { loadSamples, splitForCalibration } from '../../verify/samples.js';
import type { Step } from '../context.js';
import { SAMPLE_SEED } from '../seed.js';

/** The verification texts (split for INT8 auto: calibrate / judge), tokenized and run through PyTorch in the bridge. */
export const runPyTorch: Step = {
  title: 'Run PyTorch on the samples',
  timing: 'reference',
  async run(c, task) {
    const loaded = await loadSamples(SAMPLE_SEED, c.options.sampleLimit, c.options.samples, Object.fromEntries(c.spec!.tasks.map((t) => [t.name, t.label2id])));
    const tuned = c.options.quantize === 'int8' && c.options.int8 === 'auto';
    const split = tuned ? splitForCalibration(loaded, SAMPLE_SEED) : { samples: loaded, calibrationCount: 0 };
    c.samples = split.samples;
    c.calibrationCount = split.calibrationCount;
    c.reference = await runReference({
      bridge: c.bridge!.client,
      modelDir: c.modelDir,
      ...(c.options.taskName ? { taskName: c.options.taskName } : {}),
      tasks: c.tasks,
      samples: c.samples,
      calibrationCount: c.calibrationCount,
      maxLength: c.options.maxLength,
      workDir: join(c.workDir!, 'reference'),
      onProgress: (message) => (task.output = message),
    });
    task.title = `Run PyTorch on the samples: ${c.samples.texts.length} texts${
      tuned ? ` (${c.calibrationCount} to calibrate INT8, ${c.samples.texts.length - c.calibrationCount} to judge it)` : ''
    }`;
  },
};
