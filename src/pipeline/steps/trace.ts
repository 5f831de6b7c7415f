import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStagingDir } from '../../bundle/atomic.js';
import { callBridge } from '../../bridge/methods.js';
import { removeDirOnAbort } from '../../cleanup.js';
import type { Step } from '../context.js';

/** PyTorch -> ONNX in the bridge, traced once with one output per task, into the work dir. */
export const exportTheMultiheadGraph: Step = {
  title: 'Trace the model to ONNX',
  timing: 'trace',
  async run(c, task) {
    c.staging = await createStagingDir(c.outDir);
    c.workDir = await mkdtemp(join(tmpdir(), 'rapidfit-export-'));
    removeDirOnAbort(c.workDir);
    const exported = await callBridge(
      c.bridge!.client,
      'export',
      {
        model_dir: c.modelDir,
        task_name: c.options.taskName,
        tasks: c.tasks,
        opset: c.options.opset,
        max_length: c.options.maxLength,
        exporter: c.options.exporter,
        out_dir: join(c.workDir, 'export'),
        mode: 'shared',
      },
      { onProgress: (message) => (task.output = message) },
    );
    const file = Object.values(exported.files)[0]!.file;
    c.exportedMultihead = {
      file,
      outputs: Object.fromEntries(Object.entries(exported.files).map(([name, value]) => [name, value.output])),
    };
    task.title = `Trace the model to ONNX: ${c.tasks.length} task output(s), traced in ${exported.seconds.toFixed(1)} s`;
  },
};
