import { inspectModel, selectTasks } from '../../export/model-spec.js';
import type { Step } from '../context.js';

/** The model's facts (zod-validated ModelSpec) and the tasks to export. */
export const inspectTheModel: Step = {
  title: 'Inspect the model',
  timing: 'inspect',
  async run(c, task) {
    c.spec = await inspectModel(c.bridge!.client, c.modelDir, c.options.taskName);
    c.tasks = selectTasks(c.spec, c.options.tasks);
    task.title = `Inspect the model: ${c.spec.format}, tasks ${c.tasks.join(', ')}`;
  },
};
