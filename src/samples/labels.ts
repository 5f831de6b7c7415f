import { describeJson, formatList, quote } from './text.js';

/** Throws an InputError at the place being read (the caller prefixes the location and names the file). */
export type Fail = (message: string) => never;

/**
 * The model's tasks and label names, for checking the labels of a samples file. Built on Maps and Sets,
 * so "__proto__" or "constructor" is a task or label only when the model really has it.
 */
export class LabelSchema {
  private readonly labelsByTask = new Map<string, { names: Set<string>; listed: string }>();
  readonly tasks: readonly string[];
  /** The task of a one-task model (the one a bare "label" belongs to). */
  readonly onlyTask: string | undefined;
  private readonly listedTasks: string;

  constructor(labels: Readonly<Record<string, readonly string[]>>) {
    for (const task of Object.keys(labels)) {
      const names = labels[task] ?? [];
      this.labelsByTask.set(task, { names: new Set(names), listed: formatList([...names].sort()) });
    }
    this.tasks = [...this.labelsByTask.keys()];
    this.onlyTask = this.tasks.length === 1 ? this.tasks[0] : undefined;
    this.listedTasks = formatList([...this.tasks].sort());
  }

  hasTask(task: string): boolean {
    return this.labelsByTask.has(task);
  }

  requireTask(task: string, fail: Fail): void {
    if (!this.labelsByTask.has(task))
      fail(`task ${quote(task)} is not a task of the model (tasks: ${this.listedTasks})`);
  }

  /** The label name, checked: a string (not a number or null) that the task has. */
  requireLabel(task: string, label: unknown, fail: Fail): string {
    const known = this.labelsByTask.get(task);
    if (!known) return fail(`task ${quote(task)} is not a task of the model (tasks: ${this.listedTasks})`);
    if (typeof label !== 'string')
      return fail(`the label of task ${quote(task)} must be a label name (a string), not ${describeJson(label)}`);
    if (!known.names.has(label)) fail(`task ${quote(task)} has no label ${quote(label)} (labels: ${known.listed})`);
    return label;
  }
}
