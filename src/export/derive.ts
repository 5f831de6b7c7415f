import { join } from 'node:path';
import { isTopologicallySorted, pruneToOutputs, renameValue } from '../onnx/graph.js';
import { readOnnx, writeOnnx, type ExternalDataMode, type WrittenOnnx } from '../onnx/model-file.js';
import type { ModelProto } from '../onnx/proto.js';
import { OUTPUT_NAME } from '../plan/model-io.js';
import { variantGraphFile, type Variant } from '../plan/variants.js';

export interface DerivedGraph extends WrittenOnnx {
  task: string;
  nodes: number;
  initializers: number;
}

/**
 * Splits the multi-output graph (one shared encoder, one output per task) into one graph per task:
 * each keeps only what its output needs, and that output is renamed to "logits" (RapidFit's name).
 * Weights move to "<task>_weights.bin" when `externalData` says so (always, or auto past 2 GB),
 * streamed from the exporter's files. `variant` names the files (<task>.onnx, <task>_int8.onnx, ...):
 * an INT8 multihead graph splits the same way, so every task's INT8 graph is quantized once, in the multihead graph.
 */
export async function deriveTaskGraphs(
  exportedMultihead: string,
  outputs: Record<string, string>,
  outDir: string,
  metadata: (task: string) => Record<string, string>,
  externalData: ExternalDataMode = 'auto',
  variant: Variant = 'fp32',
): Promise<DerivedGraph[]> {
  const source = await readOnnx(exportedMultihead);
  const { model } = source;
  const graph = model.graph!;
  if (!isTopologicallySorted(graph))
    throw new Error(`${exportedMultihead}: the exported graph is not topologically sorted`);
  const derived: DerivedGraph[] = [];
  for (const [task, output] of Object.entries(outputs)) {
    const pruned = renameValue(pruneToOutputs(graph, [output]), output, OUTPUT_NAME);
    const taskModel: ModelProto = {
      ...model,
      graph: { ...pruned, name: task },
      metadata_props: Object.entries(metadata(task)).map(([key, value]) => ({ key, value })),
    };
    const written = await writeOnnx(join(outDir, variantGraphFile(task, variant)), taskModel, source.external, {
      externalData,
    });
    derived.push({ task, ...written, nodes: pruned.node?.length ?? 0, initializers: pruned.initializer?.length ?? 0 });
  }
  return derived;
}
