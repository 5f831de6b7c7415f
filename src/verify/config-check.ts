import { readFile } from 'node:fs/promises';
import type { ModelSpec } from '../config/model-spec.js';
import { checkTaskConsistency } from '../config/model-spec.js';
import { describeFirstIssue } from '../config/zod-issues.js';
import { taskConfigSchema } from '../export/task-config.js';
import { INPUT_NAMES, OUTPUT_NAME } from '../plan/model-io.js';
import { readOnnx } from '../onnx/model-file.js';
import { valueShape } from '../onnx/describe.js';

/**
 * Checks a written <task>_config.json and graph against the model: RapidFit's keys present, id2label and
 * label2id inverse and complete, label count equal to the head's outputs, max_length and pooling as
 * exported, and the graph's inputs, output and dynamic axes as documented. Returns the problems found.
 */
export async function checkTaskFiles(
  spec: ModelSpec,
  task: string,
  configFile: string,
  graphFile: string,
  maxLength: number,
): Promise<string[]> {
  const problems: string[] = [];
  const parsed = taskConfigSchema.safeParse(JSON.parse(await readFile(configFile, 'utf8')));
  if (!parsed.success) return [`${task}_config.json: ${describeFirstIssue(parsed.error)}`];
  const config = parsed.data;
  const taskSpec = spec.tasks.find((t) => t.name === task)!;
  problems.push(
    ...checkTaskConsistency({
      name: task,
      num_labels: config.num_labels,
      id2label: config.id2label,
      label2id: config.label2id,
      layers: taskSpec.headLayers,
      parameter_count: null,
    }),
  );
  if (config.max_length !== maxLength)
    problems.push(`${task}_config.json: max_length ${config.max_length}, exported with ${maxLength}`);
  if (config.pooling !== spec.pooling)
    problems.push(`${task}_config.json: pooling ${String(config.pooling)}, the model uses ${String(spec.pooling)}`);
  const graph = (await readOnnx(graphFile)).model.graph!;
  const inputs = (graph.input ?? []).map((v) => v.name);
  if (JSON.stringify(inputs) !== JSON.stringify(INPUT_NAMES))
    problems.push(`${task}.onnx: inputs ${inputs.join(', ')}, expected ${INPUT_NAMES.join(', ')}`);
  const outputs = graph.output ?? [];
  if (outputs.length !== 1 || outputs[0]!.name !== OUTPUT_NAME)
    problems.push(`${task}.onnx: outputs ${outputs.map((o) => o.name).join(', ')}, expected ${OUTPUT_NAME}`);
  for (const input of graph.input ?? []) {
    const shape = valueShape(input);
    if (shape.length !== 2 || typeof shape[0] !== 'string' || typeof shape[1] !== 'string') {
      problems.push(
        `${task}.onnx: input ${input.name} has shape [${shape.join(', ')}], expected dynamic [batch, sequence]`,
      );
    }
  }
  const outShape = outputs[0] ? valueShape(outputs[0]) : [];
  if (outShape.length !== 2 || typeof outShape[0] !== 'string' || outShape[1] !== config.num_labels) {
    problems.push(`${task}.onnx: output shape [${outShape.join(', ')}], expected [batch, ${config.num_labels}]`);
  }
  return problems;
}
