import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { callBridge } from '../../bridge/methods.js';
import { ExitCode, ToolError } from '../../errors.js';
import { taskConfigFile, TOKENIZER_DIR } from '../../plan/files.js';
import { checkTaskFiles } from '../../verify/config-check.js';
import { embeddedSamples } from '../../verify/samples.js';
import type { Step } from '../context.js';
import { SAMPLE_SEED } from '../../quantize/policy.js';
import { taskConfigs } from './export-fp32.js';

function disagree(problems: string[]): ToolError {
  return new ToolError(ExitCode.internal, `the exported files disagree with the model: ${problems.join('; ')}`);
}

/** <task>_config.json for every task, then every config and FP32 graph checked against the model. */
export const writeConfigs: Step = {
  title: 'Write and check the configs',
  timing: 'configs',
  async run(c, task) {
    for (const [name, config] of Object.entries(taskConfigs(c))) {
      await writeFile(join(c.staging!, taskConfigFile(name)), `${JSON.stringify(config, null, 2)}\n`);
    }
    const problems: string[] = [];
    for (const name of c.tasks) {
      problems.push(
        ...(await checkTaskFiles(
          c.spec!,
          name,
          join(c.staging!, taskConfigFile(name)),
          c.graphs[name]!.fp32!.file,
          c.options.maxLength,
        )),
      );
    }
    if (problems.length > 0) throw disagree(problems);
    task.title = `Write and check the configs: ${c.tasks.length} config(s), checked against the model`;
  },
};

/** tokenizer/ saved by the bridge, then checked to give the model tokenizer's ids. */
export const saveTokenizer: Step = {
  title: 'Save and check the tokenizer',
  timing: 'tokenizer',
  async run(c) {
    await callBridge(c.bridge!.client, 'save_tokenizer', {
      model_dir: c.modelDir,
      out_dir: join(c.staging!, TOKENIZER_DIR),
    });
    const probe = await callBridge(c.bridge!.client, 'check_tokenizer', {
      model_dir: c.modelDir,
      tokenizer_dir: join(c.staging!, TOKENIZER_DIR),
      texts: embeddedSamples(SAMPLE_SEED, 8),
      max_length: c.options.maxLength,
    });
    if (!probe.same) throw disagree([`${TOKENIZER_DIR}/: ${probe.detail}`]);
  },
};
