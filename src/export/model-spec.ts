import { callBridge } from '../bridge/methods.js';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { describeFirstIssue } from '../config/zod-issues.js';
import { checkTaskConsistency, modelFactsSchema, toModelSpec, type ModelSpec } from '../config/model-spec.js';
import type { BridgeClient } from '../bridge/client.js';

/** Validates what the bridge read from the model directory into a ModelSpec (exit 2 on problems). */
export function parseModelFacts(raw: unknown, weightsFile: string): ModelSpec {
  const parsed = modelFactsSchema.safeParse(raw);
  if (!parsed.success) {
    // name the file the bad value came from: the encoder's config.json, else the weights file (task_heads.pt)
    const sent = (raw ?? {}) as { weights_file?: unknown; tokenizer_dir?: unknown };
    const fromConfig = parsed.error.issues[0]?.path[0] === 'encoder' && typeof sent.tokenizer_dir === 'string';
    const file = fromConfig
      ? join(sent.tokenizer_dir as string, 'config.json')
      : typeof sent.weights_file === 'string'
        ? sent.weights_file
        : weightsFile;
    throw new InputError(`unexpected model contents at ${describeFirstIssue(parsed.error)}`, { file });
  }
  const problems = parsed.data.tasks.flatMap(checkTaskConsistency);
  if (problems.length > 0) {
    throw new InputError(problems.join('; '), { file: parsed.data.weights_file, code: 'LABEL_MISMATCH' });
  }
  const names = parsed.data.tasks.map((task) => task.name);
  const invalid = names.filter((name) => !/^[A-Za-z0-9_-]+$/.test(name));
  if (invalid.length > 0) {
    throw new InputError(
      `task names must be letters, digits, "_" or "-" to be used as file names: ${invalid.join(', ')}`,
      {
        file: parsed.data.weights_file,
      },
    );
  }
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0) {
    throw new InputError(
      `task names must be unique (each names its own files): ${[...new Set(repeated)].join(', ')} appear twice`,
      {
        file: parsed.data.weights_file,
      },
    );
  }
  return toModelSpec(parsed.data);
}

export async function inspectModel(bridge: BridgeClient, modelDir: string, taskName?: string): Promise<ModelSpec> {
  const raw = await callBridge(
    bridge,
    'inspect',
    { model_dir: modelDir, task_name: taskName },
    { timeoutMs: 5 * 60_000 },
  );
  return parseModelFacts(raw, modelDir);
}

export function selectTasks(spec: ModelSpec, requested: string[] | undefined): string[] {
  const known = spec.tasks.map((task) => task.name);
  if (!requested || requested.length === 0) return known;
  const unknown = requested.filter((task) => !known.includes(task));
  if (unknown.length > 0) {
    throw new InputError(`unknown task(s) ${unknown.join(', ')}; the model has ${known.join(', ')}`, {
      file: spec.weightsFile,
      hint: '--tasks takes a comma-separated list of task names',
    });
  }
  return [...new Set(requested)];
}

function formatCount(count: number | null): string {
  if (count === null) return 'unknown';
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}k`;
  return String(count);
}

/** Human-readable summary for `rapidfit-export inspect`. */
export function describeModelSpec(spec: ModelSpec, sizeBytes: number): string {
  const lines = [
    `model      ${spec.modelDir}`,
    `format     ${spec.format}`,
    `encoder    ${spec.encoder.modelType ?? '?'}, hidden ${spec.encoder.hiddenSize ?? '?'}, ${spec.encoder.numLayers ?? '?'} layers, vocab ${spec.encoder.vocabSize ?? '?'}, ${formatCount(spec.encoder.parameterCount)} parameters`,
  ];
  if (spec.pooling) lines.push(`pooling    ${spec.pooling}`);
  if (spec.head) {
    lines.push(
      `heads      ${spec.head.hidden_layers} hidden layer(s) x${spec.head.hidden_multiplier}, ${spec.head.activation}, dropout ${spec.head.dropout}`,
    );
  }
  lines.push(`parameters ${formatCount(spec.parameterCount)} (${(sizeBytes / 1e6).toFixed(1)} MB on disk)`);
  lines.push(`tasks      ${spec.tasks.length}`);
  for (const task of spec.tasks) {
    const shape = task.headLayers.map(([out, inp]) => `${inp}->${out}`).join(', ');
    const labels = Object.keys(task.id2label)
      .sort((a, b) => Number(a) - Number(b))
      .map((id) => task.id2label[id])
      .join(', ');
    lines.push(`  ${task.name}: ${task.numLabels} labels [${labels}]; head ${shape}`);
  }
  return lines.join('\n');
}
