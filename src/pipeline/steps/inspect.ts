import { InputError } from '../../errors.js';
import { inspectModel, selectTasks } from '../../export/model-spec.js';
import type { Step } from '../context.js';

/** The model's facts (zod-validated ModelSpec) and the tasks to export. */
export const inspectTheModel: Step = {
  title: 'Inspect the model',
  timing: 'inspect',
  async run(c, task) {
    c.spec = await inspectModel(c.bridge!.client, c.modelDir, c.options.taskName);
    c.tasks = selectTasks(c.spec, c.options.tasks);
    const known = c.spec.tasks.map((t) => t.name);
    const unknown = [
      ...new Set(
        c.options.gates.flatMap((gate) => (gate.task !== undefined && !known.includes(gate.task) ? [gate.task] : [])),
      ),
    ];
    if (unknown.length > 0) {
      throw new InputError(
        `a gate names task(s) ${unknown.join(', ')}, which the model does not have (it has ${known.join(', ')})`,
        {
          file: c.spec.weightsFile,
          hint: 'check the task names in --gate and --gates-file',
        },
      );
    }
    task.title = `Inspect the model: ${c.spec.format}, tasks ${c.tasks.join(', ')}`;
  },
};
