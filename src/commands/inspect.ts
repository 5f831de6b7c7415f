import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { INSPECT_OPTIONS } from '../options/inspect.js';
import { bridgeSessionOptions } from './bridge-options.js';
import { defineCommand, print } from './command.js';

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** `rapidfit-export inspect <file.onnx>|<model_dir>`. */
export const inspectCommand = defineCommand({
  name: 'inspect',
  usage: '<file.onnx>|<model_dir>',
  summary: "an ONNX file's I/O, opsets and ops (no Python), or a model's tasks, labels, heads",
  description: `<file.onnx>: print its inputs, outputs, IR version, opsets, op counts and weight bytes inline and
external, without Python. <model_dir>: print the model's tasks, labels, pooling, head shape,
parameters and size, read by the Python bridge.`,
  options: INSPECT_OPTIONS,
  maxPositionals: 1,
  required: { missing: 'inspect needs a model directory or an ONNX file', hint: 'rapidfit-export inspect ./my_model' },
  async run({ positionals: [target = ''], options: values }) {
    const bridgeOptions = bridgeSessionOptions(values);
    if (target.endsWith('.onnx')) {
      const { readOnnx } = await import('../onnx/model-file.js');
      const { describeOnnx, summarizeOnnx } = await import('../onnx/describe.js');
      const summary = summarizeOnnx(await readOnnx(resolve(target)));
      print(values.json, summary, describeOnnx(summary));
      return;
    }
    const { checkModelDir } = await import('../export/model-dir.js');
    const { dir } = checkModelDir(target);
    const { openBridge } = await import('../bridge/session.js');
    const { describeModelSpec, inspectModel } = await import('../export/model-spec.js');
    const session = await openBridge(bridgeOptions);
    try {
      const spec = await inspectModel(session.client, dir, values.taskName);
      const size = await directorySize(dir);
      print(values.json, { ...spec, sizeBytes: size }, describeModelSpec(spec, size));
    } finally {
      await session.client.close();
    }
  },
});
