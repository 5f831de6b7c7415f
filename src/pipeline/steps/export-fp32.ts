import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createStagingDir } from '../../bundle/atomic.js';
import { callBridge } from '../../bridge/methods.js';
import { removeDirOnAbort } from '../../cleanup.js';
import { toolVersion } from '../../environment.js';
import { deriveTaskGraphs } from '../../export/derive.js';
import { multiheadMetadata, writeMultiheadGraph } from '../../export/multihead.js';
import { graphMetadata, taskConfig, type TaskConfig } from '../../export/task-config.js';
import type { ExportContext, Step } from '../context.js';

/** Each exported task's <task>_config.json content. */
export function taskConfigs(c: ExportContext): Record<string, TaskConfig> {
  return Object.fromEntries(c.spec!.tasks.filter((t) => c.tasks.includes(t.name)).map((t) => [t.name, taskConfig(c.spec!, t, c.options.maxLength)]));
}

/**
 * PyTorch -> ONNX, traced once with one output per task; <task>.onnx is cut from that trace per task,
 * and with two or more tasks the trace itself becomes multihead.onnx.
 */
export const exportFp32: Step = {
  title: 'Export to ONNX (FP32)',
  timing: 'export',
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
    c.timings.trace = Math.round(exported.seconds * 1000) / 1000;
    task.output = 'deriving one graph per task';
    const multitask = Object.values(exported.files)[0]!.file;
    const outputs = Object.fromEntries(Object.entries(exported.files).map(([name, value]) => [name, value.output]));
    c.multitask = { file: multitask, outputs };
    const version = toolVersion();
    const configs = taskConfigs(c);
    const externalData = c.options.externalData ? 'always' : 'auto';
    const derived = await deriveTaskGraphs(multitask, outputs, c.staging, (name) => graphMetadata(configs[name]!, version), externalData);
    for (const graph of derived) c.graphs[graph.task] = { fp32: { file: graph.file, ...(graph.dataFile ? { weights: basename(graph.dataFile) } : {}) } };
    if (c.tasks.length > 1) {
      task.output = 'writing the multihead graph';
      const written = await writeMultiheadGraph(multitask, outputs, c.staging, multiheadMetadata(Object.values(configs), version), externalData);
      c.multihead = { fp32: { file: written.file, ...(written.dataFile ? { weights: basename(written.dataFile) } : {}) } };
    }
    task.title = `Export to ONNX (FP32): ${derived.length} graph(s), traced once in ${exported.seconds.toFixed(1)} s`;
  },
};
