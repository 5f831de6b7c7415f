import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { callBridge } from '../../bridge/methods.js';
import { ExitCode, ToolError } from '../../errors.js';
import { taskConfigFile, TOKENIZER_DIR } from '../../plan/files.js';
import { checkTaskFiles } from '../../verify/config-check.js';
import { embeddedSamples } from '../../verify/samples.js';
import type { Step } from '../context.js';
import { SAMPLE_SEED } from '../seed.js';
import { taskConfigs } from './export-fp32.js';

/** <task>_config.json and tokenizer/, then every config and graph checked against the model, and the saved tokenizer against the model's. */
export const writeConfigs: Step = {
  title: 'Write configs and tokenizer',
  timing: 'configs',
  async run(c, task) {
    for (const [name, config] of Object.entries(taskConfigs(c))) {
      await writeFile(join(c.staging!, taskConfigFile(name)), `${JSON.stringify(config, null, 2)}\n`);
    }
    task.output = 'saving the tokenizer';
    await callBridge(c.bridge!.client, 'save_tokenizer', { model_dir: c.modelDir, out_dir: join(c.staging!, TOKENIZER_DIR) });
    task.output = 'checking configs and graphs against the model';
    const problems: string[] = [];
    for (const name of c.tasks) {
      problems.push(...(await checkTaskFiles(c.spec!, name, join(c.staging!, taskConfigFile(name)), c.graphs[name]!.fp32!.file, c.options.maxLength)));
    }
    const probe = await callBridge(c.bridge!.client, 'check_tokenizer', {
      model_dir: c.modelDir,
      tokenizer_dir: join(c.staging!, TOKENIZER_DIR),
      texts: embeddedSamples(SAMPLE_SEED, 8).texts,
      max_length: c.options.maxLength,
    });
    if (!probe.same) problems.push(`${TOKENIZER_DIR}/: ${probe.detail}`);
    if (problems.length > 0) throw new ToolError(ExitCode.internal, `the exported files disagree with the model: ${problems.join('; ')}`);
    task.title = `Write configs and tokenizer: ${c.tasks.length} config(s), checked against the model`;
  },
};
