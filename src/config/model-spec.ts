import { z } from 'zod';

const POOLINGS = ['mean', 'cls', 'max'] as const;
const ACTIVATIONS = ['gelu', 'relu', 'silu', 'tanh'] as const;

const taskFacts = z.object({
  name: z.string().min(1),
  num_labels: z.number().int().positive(),
  id2label: z.record(z.string(), z.string()),
  label2id: z.record(z.string(), z.number().int().nonnegative()),
  /** [[out, in], ...] of the head's Linear layers, in order. */
  layers: z.array(z.tuple([z.number().int().positive(), z.number().int().positive()])).min(1),
  parameter_count: z.number().int().nonnegative().nullable(),
});

/** The raw facts the bridge reads from a model directory (snake_case, as Python sends them). */
export const modelFactsSchema = z.object({
  format: z.enum(['rapidfit', 'hf-sequence-classification']),
  model_dir: z.string(),
  weights_file: z.string(),
  encoder: z.object({
    model_type: z.string().nullable(),
    hidden_size: z.number().int().positive().nullable(),
    num_layers: z.number().int().nonnegative().nullable(),
    vocab_size: z.number().int().positive().nullable(),
    max_position_embeddings: z.number().int().positive().nullable(),
    parameter_count: z.number().int().nonnegative().nullable(),
  }),
  pooling: z.enum(POOLINGS).nullable(),
  head_config: z
    .object({
      hidden_layers: z.number().int().nonnegative(),
      hidden_multiplier: z.number().positive(),
      activation: z.enum(ACTIVATIONS),
      dropout: z.number().min(0).max(1),
    })
    .nullable(),
  tasks: z.array(taskFacts).min(1),
  tokenizer_dir: z.string(),
});
export type ModelFacts = z.infer<typeof modelFactsSchema>;

export interface TaskSpec {
  name: string;
  numLabels: number;
  /** String keys, as RapidFit's <task>_config.json has them. */
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  headLayers: Array<[number, number]>;
  parameterCount: number | null;
}

export interface ModelSpec {
  format: ModelFacts['format'];
  modelDir: string;
  weightsFile: string;
  encoder: {
    modelType: string | null;
    hiddenSize: number | null;
    numLayers: number | null;
    vocabSize: number | null;
    maxPositionEmbeddings: number | null;
    parameterCount: number | null;
  };
  pooling: (typeof POOLINGS)[number] | null;
  head: ModelFacts['head_config'];
  tasks: TaskSpec[];
  tokenizerDir: string;
  /** Encoder + all heads. */
  parameterCount: number | null;
}

/** Problems that make a model unexportable: each names the task and what disagrees. */
export function checkTaskConsistency(task: z.infer<typeof taskFacts>): string[] {
  const problems: string[] = [];
  const ids = Object.keys(task.id2label);
  const last = task.layers[task.layers.length - 1];
  if (last && last[0] !== task.num_labels) {
    problems.push(
      `task "${task.name}": the head outputs ${last[0]} logits but task_num_labels says ${task.num_labels}`,
    );
  }
  if (ids.length !== task.num_labels) {
    problems.push(`task "${task.name}": id2label has ${ids.length} labels but the head has ${task.num_labels}`);
  }
  const expectedIds = Array.from({ length: task.num_labels }, (_, index) => String(index));
  const missingIds = expectedIds.filter((id) => !(id in task.id2label));
  if (ids.length === task.num_labels && missingIds.length > 0) {
    problems.push(`task "${task.name}": id2label is missing ids ${missingIds.join(', ')}`);
  }
  for (const [id, label] of Object.entries(task.id2label)) {
    if (task.label2id[label] !== Number(id)) {
      problems.push(
        `task "${task.name}": id2label[${id}] = "${label}" but label2id["${label}"] = ${String(task.label2id[label])}`,
      );
      break;
    }
  }
  if (Object.keys(task.label2id).length !== ids.length) {
    problems.push(
      `task "${task.name}": label2id has ${Object.keys(task.label2id).length} labels, id2label has ${ids.length}`,
    );
  }
  for (let index = 1; index < task.layers.length; index += 1) {
    const previous = task.layers[index - 1];
    const current = task.layers[index];
    if (previous && current && previous[0] !== current[1]) {
      problems.push(`task "${task.name}": head layer ${index} expects ${current[1]} inputs, gets ${previous[0]}`);
    }
  }
  return problems;
}

export function toModelSpec(facts: ModelFacts): ModelSpec {
  const tasks: TaskSpec[] = facts.tasks.map((task) => ({
    name: task.name,
    numLabels: task.num_labels,
    id2label: task.id2label,
    label2id: task.label2id,
    headLayers: task.layers,
    parameterCount: task.parameter_count,
  }));
  const headParameters = tasks.reduce<number | null>(
    (sum, task) => (sum === null || task.parameterCount === null ? null : sum + task.parameterCount),
    0,
  );
  const encoderParameters = facts.encoder.parameter_count;
  return {
    format: facts.format,
    modelDir: facts.model_dir,
    weightsFile: facts.weights_file,
    encoder: {
      modelType: facts.encoder.model_type,
      hiddenSize: facts.encoder.hidden_size,
      numLayers: facts.encoder.num_layers,
      vocabSize: facts.encoder.vocab_size,
      maxPositionEmbeddings: facts.encoder.max_position_embeddings,
      parameterCount: encoderParameters,
    },
    pooling: facts.pooling,
    head: facts.head_config,
    tasks,
    tokenizerDir: facts.tokenizer_dir,
    parameterCount:
      facts.format === 'rapidfit'
        ? encoderParameters === null || headParameters === null
          ? null
          : encoderParameters + headParameters
        : encoderParameters,
  };
}
