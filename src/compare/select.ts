import { InputError } from '../errors.js';
import { VARIANT_PLANS, VARIANTS, type Variant } from '../plan/variants.js';
import { taskVariants, type ComparedBundle } from './bundle.js';

/** What is compared: the common tasks and, per variant, the tasks both bundles have its graph of. */
export interface ComparisonPlan {
  tasks: string[];
  onlyOld: string[];
  onlyNew: string[];
  variants: Array<{ variant: Variant; tasks: string[] }>;
  /** Variants (and tasks) one bundle lacks, left out: said in the report. */
  skipped: string[];
}

const names = (bundle: ComparedBundle) => bundle.tasks.map((task) => task.name);

function commonTasks(old: ComparedBundle, candidate: ComparedBundle, asked: readonly string[] | undefined): string[] {
  const common = names(old).filter((task) => names(candidate).includes(task));
  if (common.length === 0) {
    throw new InputError(
      `the bundles have no task in common: old has ${names(old).join(', ')}, new has ${names(candidate).join(', ')}`,
      { file: candidate.dir },
    );
  }
  if (!asked) return common;
  for (const task of asked) {
    if (!common.includes(task)) {
      const where = names(old).includes(task)
        ? 'only the old bundle has it'
        : names(candidate).includes(task)
          ? 'only the new bundle has it'
          : 'neither bundle has it';
      throw new InputError(`--tasks: cannot compare task "${task}": ${where} (common tasks: ${common.join(', ')})`);
    }
  }
  return [...new Set(asked)];
}

/**
 * The tasks and variants to compare. A variant asked with --variant must be in both bundles for every
 * compared task (else exit 2 naming the bundle); by default each variant both have is compared, and one
 * only one bundle has is listed as skipped.
 */
export function planComparison(
  old: ComparedBundle,
  candidate: ComparedBundle,
  asked: { tasks?: readonly string[] | undefined; variants?: readonly Variant[] | undefined },
): ComparisonPlan {
  const tasks = commonTasks(old, candidate, asked.tasks);
  const skipped: string[] = [];
  const variants: ComparisonPlan['variants'] = [];
  for (const variant of asked.variants ? [...new Set(asked.variants)] : VARIANTS) {
    const title = VARIANT_PLANS[variant].title;
    const have = tasks.filter((task) =>
      [old, candidate].every((bundle) => taskVariants(bundle, task).includes(variant)),
    );
    const lacking = tasks.filter((task) => !have.includes(task));
    if (asked.variants && lacking.length > 0) {
      const task = lacking[0]!;
      const bundle = taskVariants(old, task).includes(variant) ? candidate : old;
      throw new InputError(
        `the ${bundle.role} bundle has no ${title} graph for task "${task}" (asked with --variant ${variant})`,
        {
          file: bundle.dir,
        },
      );
    }
    if (have.length > 0) variants.push({ variant, tasks: have });
    const inOne = lacking.filter((task) =>
      [old, candidate].some((bundle) => taskVariants(bundle, task).includes(variant)),
    );
    if (inOne.length > 0) skipped.push(`${title}: only one bundle has it for ${inOne.join(', ')}`);
  }
  return {
    tasks,
    onlyOld: names(old).filter((task) => !names(candidate).includes(task)),
    onlyNew: names(candidate).filter((task) => !names(old).includes(task)),
    variants,
    skipped,
  };
}
