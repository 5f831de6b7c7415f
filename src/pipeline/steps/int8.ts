import { toolVersion } from '../../environment.js';
import { multiheadMetadata } from '../../export/multihead.js';
import { graphMetadata } from '../../export/task-config.js';
import { externalDataMode, taskConfigs } from './export-fp32.js';
import { describeMix } from '../../quantize/auto/search.js';
import { gatesForTask } from '../../verify/gates.js';
import { lengthQuantiles, type SpeedProfile } from '../../quantize/auto/speed.js';
import type { ExportContext, Step } from '../context.js';
import { runInt8Step } from '../int8-step.js';
import { graphBytes } from './sizes.js';

/**
 * Where auto measures INT8's speed: the token lengths of the texts that choose and judge it (the
 * user's, when given; not the embedded robustness texts), at batch 1 and --batch-size.
 */
function speedProfile(c: ExportContext): SpeedProfile {
  const { calibration, judged } = c.samples!.splits;
  const lengths = c.tokenLengths!.slice(0, calibration + judged).sort((a, b) => a - b);
  return { ...lengthQuantiles(lengths), batchSize: c.options.batchSize, maxLength: c.options.maxLength };
}

/** <task>_int8.onnx (and multihead_int8.onnx): one method, or auto's choice on the calibration split. */
export const quantizeInt8: Step = {
  title: 'Quantize to INT8',
  timing: 'quantize',
  enabled: (c) => c.options.quantize === 'int8',
  async run(c, task) {
    const int8Gate = (name: string) =>
      gatesForTask(name, c.options.fp32Tolerance, c.options.int8Top1, c.options.gates).find(
        (g) => g.comparison === 'int8' && g.metric === 'top1Agreement',
      )?.limit ?? c.options.int8Top1;
    const configs = taskConfigs(c);
    const version = toolVersion();
    c.int8 = await runInt8Step({
      mode: c.options.int8,
      options: c.options.quantization,
      budget: c.options.int8Budget,
      exportedMultihead: c.exportedMultihead!.file,
      outputs: c.exportedMultihead!.outputs,
      fp32: Object.fromEntries(c.tasks.map((name) => [name, c.graphs[name]!.fp32!.file])),
      taskMetadata: (name) => graphMetadata(configs[name]!, version),
      ...(c.multihead ? { multiheadMetadata: multiheadMetadata(Object.values(configs), version) } : {}),
      externalData: externalDataMode(c),
      stagingDir: c.staging!,
      workDir: c.workDir!,
      gates: Object.fromEntries(c.tasks.map((name) => [name, int8Gate(name)])),
      reference: c.reference!,
      speed: speedProfile(c),
      version,
      onProgress: (message) => (task.output = message),
    });
    const sizes: string[] = [];
    for (const [name, graph] of Object.entries(c.int8.graphs)) {
      c.graphs[name]!.int8 = { file: graph.file, ...(graph.dataFile ? { weights: graph.dataFile } : {}) };
      sizes.push(`${((graph.bytes / graphBytes(c.graphs[name]!.fp32!)) * 100).toFixed(0)}%`);
    }
    if (c.multihead && c.int8.multihead) {
      c.multihead.int8 = {
        file: c.int8.multihead.file,
        ...(c.int8.multihead.dataFile ? { weights: c.int8.multihead.dataFile } : {}),
      };
    }
    const chosen = c.int8.choice?.chosen;
    const method = chosen
      ? `auto: ${describeMix(chosen.base, chosen.nodeMethods, c.int8.choice!.matmulCount)}${chosen.speedup ? `, ${chosen.speedup.toFixed(2)}x FP32 at batch 1` : ''}`
      : c.options.int8;
    task.title = `Quantize to INT8 (${method}): ${c.tasks.length} graph(s), ${sizes.join(', ')} of FP32 size`;
    if (c.int8.note) task.output = c.int8.note;
  },
};
