import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTopologicallySorted, pruneToOutputs, renameValue } from '../onnx/graph.js';
import { decodeModel, encodeModel, type ModelProto } from '../onnx/proto.js';

export const OUTPUT_NAME = 'logits';

export interface DerivedGraph {
  task: string;
  file: string;
  nodes: number;
  initializers: number;
}

/**
 * Splits the multi-output graph (one shared encoder, one output per task) into one graph per task:
 * each keeps only what its output needs, and that output is renamed to "logits" (RapidFit's name).
 */
export async function deriveTaskGraphs(
  multitaskFile: string,
  outputs: Record<string, string>,
  outDir: string,
  metadata: (task: string) => Record<string, string>,
): Promise<DerivedGraph[]> {
  const model = decodeModel(await readFile(multitaskFile));
  const graph = model.graph;
  if (!graph) throw new Error(`${multitaskFile}: the model has no graph`);
  if (!isTopologicallySorted(graph)) throw new Error(`${multitaskFile}: the exported graph is not topologically sorted`);
  const derived: DerivedGraph[] = [];
  for (const [task, output] of Object.entries(outputs)) {
    const pruned = renameValue(pruneToOutputs(graph, [output]), output, OUTPUT_NAME);
    const taskModel: ModelProto = {
      ...model,
      graph: { ...pruned, name: task },
      metadata_props: Object.entries(metadata(task)).map(([key, value]) => ({ key, value })),
    };
    const file = join(outDir, `${task}.onnx`);
    await writeFile(file, encodeModel(taskModel));
    derived.push({
      task,
      file,
      nodes: pruned.node?.length ?? 0,
      initializers: pruned.initializer?.length ?? 0,
    });
  }
  return derived;
}
