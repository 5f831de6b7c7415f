import { join } from 'node:path';
import { isTopologicallySorted, pruneToOutputs, renameValue } from '../onnx/graph.js';
import { readOnnx, writeOnnx, type ExternalDataMode, type WrittenOnnx } from '../onnx/model-file.js';
import type { ModelProto } from '../onnx/proto.js';
import type { TaskConfig } from './task-config.js';

import { multiheadOutput } from '../plan/model-io.js';
import { multiheadFile, type Variant } from '../plan/variants.js';

/** ONNX metadata_props of multihead.onnx: its tasks, each task's output and labels, max_length, pooling. */
export function multiheadMetadata(configs: readonly TaskConfig[], toolVersion: string): Record<string, string> {
  const first = configs[0]!;
  return {
    'rapidfit.tasks': JSON.stringify(configs.map((config) => config.task)),
    'rapidfit.outputs': JSON.stringify(
      Object.fromEntries(configs.map((config) => [config.task, multiheadOutput(config.task)])),
    ),
    'rapidfit.id2label': JSON.stringify(Object.fromEntries(configs.map((config) => [config.task, config.id2label]))),
    'rapidfit.max_length': String(first.max_length),
    'rapidfit.pooling': first.pooling ?? 'none',
    'rapidfit_export.version': toolVersion,
  };
}

/**
 * Writes multihead.onnx from the exporter's multihead graph: every task's output, renamed to
 * "<task>_logits" (the bridge already uses those names), inputs input_ids and attention_mask as in
 * the per-task graphs. Weights go to "multihead_weights.bin" when `externalData` says so. From an
 * INT8 multihead graph it writes multihead_int8.onnx (`variant`).
 */
export async function writeMultiheadGraph(
  exportedMultihead: string,
  outputs: Record<string, string>,
  outDir: string,
  metadata: Record<string, string>,
  externalData: ExternalDataMode = 'auto',
  variant: Variant = 'fp32',
): Promise<WrittenOnnx> {
  const source = await readOnnx(exportedMultihead);
  const graph = source.model.graph!;
  if (!isTopologicallySorted(graph))
    throw new Error(`${exportedMultihead}: the exported graph is not topologically sorted`);
  let multihead = pruneToOutputs(graph, Object.values(outputs));
  for (const [task, output] of Object.entries(outputs))
    multihead = renameValue(multihead, output, multiheadOutput(task));
  const model: ModelProto = {
    ...source.model,
    graph: { ...multihead, name: 'multihead' },
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return writeOnnx(join(outDir, multiheadFile(variant)), model, source.external, { externalData });
}
