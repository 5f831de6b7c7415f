import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { variantGraphPaths, type Manifest } from '../config/manifest.js';
import { describeFirstIssue } from '../config/zod-issues.js';
import { InputError } from '../errors.js';
import { taskConfigSchema } from '../export/task-config.js';

import { isVariant, VARIANTS, type Variant } from '../plan/variants.js';

export { type Variant } from '../plan/variants.js';

/** One task of a bundle: its labels (by class id), its max_length and the graph of each variant it has. */
export interface BundleTask {
  name: string;
  labels: string[];
  maxLength: number;
  graphs: Partial<Record<Variant, string>>;
}

/** multihead.onnx of a bundle: the graph of each variant it has, and each task's output in it. */
export interface BundleMultihead {
  graphs: Partial<Record<Variant, string>>;
  outputs: Readonly<Record<string, string>>;
}

/** The manifest's multihead graphs; undefined for single-task bundles and bundles written before multihead.onnx existed. */
export function readBundleMultihead(dir: string, manifest: Manifest): BundleMultihead | undefined {
  const multihead = manifest.multihead;
  if (!multihead) return undefined;
  return {
    graphs: variantGraphPaths(dir, multihead),
    outputs: multihead.outputs,
  };
}

export function parseVariant(value: string): Variant {
  if (isVariant(value)) return value;
  throw new InputError(`unknown variant "${value}": use ${VARIANTS.join(', ')}`);
}

/** Reads every task's <task>_config.json (RapidFit keys) into labels ordered by class id. */
export function readBundleTasks(dir: string, manifest: Manifest): BundleTask[] {
  return manifest.tasks.map((entry) => {
    const file = join(dir, entry.config);
    if (!existsSync(file)) throw new InputError(`the bundle has no config for task "${entry.name}"`, { file });
    let content: unknown;
    try {
      content = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new InputError(`the task config does not parse: ${(error as Error).message.split('\n')[0]}`, { file });
    }
    const parsed = taskConfigSchema.safeParse(content);
    if (!parsed.success)
      throw new InputError(`the task config is malformed (${describeFirstIssue(parsed.error)})`, { file });
    const config = parsed.data;
    const labels = Array.from({ length: config.num_labels }, (_, id) => {
      const label = config.id2label[String(id)];
      if (label === undefined) throw new InputError(`id2label has no label for class ${id}`, { file });
      return label;
    });
    return {
      name: entry.name,
      labels,
      maxLength: config.max_length,
      graphs: variantGraphPaths(dir, entry),
    };
  });
}
