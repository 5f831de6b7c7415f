import { basename } from 'node:path';
import { toolVersion } from '../../environment.js';
import { deriveTaskGraphs } from '../../export/derive.js';
import { multiheadMetadata, writeMultiheadGraph } from '../../export/multihead.js';
import type { ExternalDataMode } from '../../onnx/model-file.js';
import { graphMetadata, taskConfig, type TaskConfig } from '../../export/task-config.js';
import type { ExportContext, Step } from '../context.js';

/** Each exported task's <task>_config.json content. */
export function taskConfigs(c: ExportContext): Record<string, TaskConfig> {
  return Object.fromEntries(
    c
      .spec!.tasks.filter((t) => c.tasks.includes(t.name))
      .map((t) => [t.name, taskConfig(c.spec!, t, c.options.maxLength)]),
  );
}

/** Where graph weights go: external data always (--external-data) or past 2 GB. */
export function externalDataMode(c: ExportContext): ExternalDataMode {
  return c.options.externalData ? 'always' : 'auto';
}

/**
 * <task>.onnx cut from the exported multihead graph per task (only what its output needs, output renamed to
 * "logits"), and with two or more tasks the exported graph itself as multihead.onnx.
 */
export const exportFp32: Step = {
  title: 'Export to ONNX (FP32)',
  timing: 'export',
  async run(c, task) {
    const { file: exportedMultihead, outputs } = c.exportedMultihead!;
    task.output = 'deriving one graph per task';
    const version = toolVersion();
    const configs = taskConfigs(c);
    const externalData = externalDataMode(c);
    const derived = await deriveTaskGraphs(
      exportedMultihead,
      outputs,
      c.staging!,
      (name) => graphMetadata(configs[name]!, version),
      externalData,
    );
    for (const graph of derived)
      c.graphs[graph.task] = {
        fp32: { file: graph.file, ...(graph.dataFile ? { weights: basename(graph.dataFile) } : {}) },
      };
    if (c.tasks.length > 1) {
      task.output = 'writing the multihead graph';
      const written = await writeMultiheadGraph(
        exportedMultihead,
        outputs,
        c.staging!,
        multiheadMetadata(Object.values(configs), version),
        externalData,
      );
      c.multihead = {
        fp32: { file: written.file, ...(written.dataFile ? { weights: basename(written.dataFile) } : {}) },
      };
    }
    task.title = `Export to ONNX (FP32): ${derived.length} graph(s)${c.multihead ? ' and the multihead graph' : ''}`;
  },
};
