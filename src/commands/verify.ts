import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { VERIFY_OPTIONS } from '../options/verify.js';
import { defineCommand, print } from './command.js';

/** `rapidfit-export verify <bundle>`: what a deploy job runs, no Python. */
export const verifyCommand = defineCommand({
  name: 'verify',
  usage: '<bundle>',
  summary: "re-check a bundle's files and parity at its gates (no Python)",
  description: `Check a bundle without Python (what a deploy job runs): every file against manifest.json (exit 2
on a mismatch), the bundle's tokenizer in Node against the stored Python token ids, and every graph
(FP32, INT8, FP16) re-run on the stored samples against the stored PyTorch logits, at the gates the
bundle was built with (exit 3 naming the task, metric, value and limit).`,
  options: VERIFY_OPTIONS,
  maxPositionals: 1,
  required: { missing: 'verify needs a bundle directory', hint: 'rapidfit-export verify ./my_model-onnx' },
  async run({ positionals: [target = ''], options: values }) {
    const dir = resolve(target);
    if (!existsSync(dir)) throw new InputError('the bundle directory does not exist', { file: dir });
    const { verifyBundle } = await import('../verify/bundle-check.js');
    const { writeJunit } = await import('../verify/ci-output.js');
    const { formatNumber, gatesFromManifest, parityGateError } = await import('../verify/gates.js');
    const verification = await verifyBundle(dir, gatesFromManifest, (line) => {
      if (!values.json) process.stderr.write(`  ${line}\n`);
    });
    if (values.junit) await writeJunit(resolve(values.junit), verification.tasks);
    const lines = [`${dir}: ${verification.manifest.files.length} files match the manifest`];
    for (const task of verification.tasks) {
      for (const [kind, metrics] of Object.entries(task.comparisons)) {
        const gates = task.gates
          .filter((gate) => gate.comparison === kind)
          .map((gate) => `${gate.passed ? 'pass' : 'FAIL'} ${gate.metric} ${gate.op} ${formatNumber(gate.limit)}`);
        lines.push(
          `  ${task.task} ${kind}: max abs diff ${formatNumber(metrics.maxAbsDiff)}, top-1 agreement ${(metrics.top1Agreement * 100).toFixed(2)}% (${metrics.samples} samples) ${gates.join('; ')}`,
        );
      }
    }
    lines.push(verification.passed ? 'verified' : 'FAILED');
    print(
      values.json,
      { ok: verification.passed, tasks: verification.tasks, files: verification.manifest.files.length },
      lines.join('\n'),
    );
    if (!verification.passed) {
      throw parityGateError(verification.tasks, { file: dir });
    }
  },
});
