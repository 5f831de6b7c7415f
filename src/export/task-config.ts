import { z } from 'zod';
import type { ModelSpec, TaskSpec } from '../config/model-spec.js';
import { dynamicAxes, INPUT_NAMES, OUTPUT_NAME } from '../plan/model-io.js';

/** <task>_config.json: RapidFit's keys (id2label with string keys, label2id) plus what a runtime needs. */
export const taskConfigSchema = z.object({
  id2label: z.record(z.string(), z.string()),
  label2id: z.record(z.string(), z.number().int()),
  task: z.string(),
  num_labels: z.number().int().positive(),
  max_length: z.number().int().positive(),
  pooling: z.enum(['mean', 'cls', 'max']).nullable(),
  input_names: z.array(z.string()),
  output_name: z.string(),
  dynamic_axes: z.record(z.string(), z.record(z.string(), z.string())),
  format: z.enum(['rapidfit', 'hf-sequence-classification']),
});
export type TaskConfig = z.infer<typeof taskConfigSchema>;

export function taskConfig(spec: ModelSpec, task: TaskSpec, maxLength: number): TaskConfig {
  return {
    id2label: task.id2label,
    label2id: task.label2id,
    task: task.name,
    num_labels: task.numLabels,
    max_length: maxLength,
    pooling: spec.pooling,
    input_names: [...INPUT_NAMES],
    output_name: OUTPUT_NAME,
    dynamic_axes: dynamicAxes(),
    format: spec.format,
  };
}

/** ONNX metadata_props written into each <task>.onnx, so the graph describes itself. */
export function graphMetadata(config: TaskConfig, toolVersion: string): Record<string, string> {
  return {
    'rapidfit.task': config.task,
    'rapidfit.id2label': JSON.stringify(config.id2label),
    'rapidfit.max_length': String(config.max_length),
    'rapidfit.pooling': config.pooling ?? 'none',
    'rapidfit_export.version': toolVersion,
  };
}
