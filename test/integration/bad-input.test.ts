import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';
import { expectCase } from '../helpers/reliability.js';

/** Writes a task_heads.pt variant with the bridge's torch (torch.save, like RapidFit does). */
async function writeHeads(python: string, target: string, code: string): Promise<void> {
  await execa(
    python,
    [
      '-c',
      `import torch, sys\nsrc = sys.argv[1]\ndst = sys.argv[2]\n${code}`,
      join(fixturePath('tiny-mean-gelu'), 'task_heads.pt'),
      target,
    ],
    {
      env: { PYTHONWARNINGS: 'ignore' },
    },
  );
}

/** Sets element 7 of one encoder tensor (to Inf unless `value` is given); returns its size and the value it held. */
async function setEncoderValue(python: string, weights: string, tensor: string, value = 'inf') {
  const code = [
    'import sys, torch',
    'from safetensors.torch import load_file, save_file',
    'tensors = load_file(sys.argv[1])',
    'flat = tensors[sys.argv[2]].view(-1)',
    'original = repr(float(flat[7]))',
    'flat[7] = float(sys.argv[3])',
    'save_file(tensors, sys.argv[1], metadata={"format": "pt"})',
    'print(flat.numel(), original)',
  ].join('\n');
  const run = await execa(python, ['-c', code, weights, tensor, value], { env: { PYTHONWARNINGS: 'ignore' } });
  const [values, original] = run.stdout.trim().split(' ');
  return { values: Number(values), original: original! };
}

function copyModel(root: string, name = 'model'): string {
  const dir = join(root, name);
  cpSync(fixturePath('tiny-mean-gelu'), dir, { recursive: true });
  return dir;
}

interface Expectation {
  exitCode: number;
  message: RegExp;
}

/** Runs an export that must fail: checks the exit code, the one-line message, no stack trace, nothing written. */
async function expectRefused(args: string[], root: string, expected: Expectation, env: Record<string, string> = {}) {
  const before = readdirSync(root).sort();
  const run = await runCli([...args, '--no-progress'], env);
  expect(run.exitCode, run.stderr).toBe(expected.exitCode);
  expect(run.stderr).toMatch(expected.message);
  expect(run.stderr).not.toMatch(/Traceback| {4}at /);
  expect(readdirSync(root).sort()).toEqual(before);
  return run;
}

/** The same for a row of docs/reliability.md: its exit code and whole message line (test/helpers/reliability-cases.ts). */
async function expectRefusedCase(args: string[], root: string, id: string, env: Record<string, string> = {}) {
  const before = readdirSync(root).sort();
  const run = await runCli([...args, '--no-progress'], env);
  expectCase(id, run);
  expect(readdirSync(root).sort()).toEqual(before);
  return run;
}

describe('bad input: a clear error, its exit code, nothing written', () => {
  let python: string;
  beforeAll(async () => {
    python = await bridgePython();
  });

  it('a missing model directory', async () => {
    const root = scratchDir();
    await expectRefusedCase([join(root, 'nope'), '-o', join(root, 'out')], root, 'model-dir-missing');
  });

  it('a directory without encoder/ and one without task_heads.pt', async () => {
    const root = scratchDir();
    const noEncoder = copyModel(root, 'no-encoder');
    rmSync(join(noEncoder, 'encoder'), { recursive: true });
    await expectRefusedCase([noEncoder, '-o', join(root, 'out')], root, 'no-encoder');
    const noHeads = copyModel(root, 'no-heads');
    rmSync(join(noHeads, 'task_heads.pt'));
    await expectRefusedCase([noHeads, '-o', join(root, 'out')], root, 'no-task-heads');
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expectRefusedCase([empty, '-o', join(root, 'out')], root, 'not-a-model-dir');
  });

  it('a task_heads.pt that is not a RapidFit dict', async () => {
    const root = scratchDir();
    const model = copyModel(root);
    await writeHeads(python, join(model, 'task_heads.pt'), 'torch.save({"weights": torch.zeros(3)}, dst)');
    await expectRefused([model, '-o', join(root, 'out')], root, {
      exitCode: 2,
      message: /task_heads\.pt: is not a RapidFit task_heads dict: missing keys task_heads, task_num_labels/,
    });
    await writeHeads(python, join(model, 'task_heads.pt'), 'torch.save([1, 2, 3], dst)');
    const run = await expectRefusedCase([model, '-o', join(root, 'out')], root, 'task-heads-not-a-dict');
    expect(run.stderr).toMatch(/not a RapidFit task_heads dict \(found list\)/);
  });

  it('a truncated task_heads.pt', async () => {
    const root = scratchDir();
    const model = copyModel(root);
    await writeHeads(
      python,
      join(model, 'task_heads.pt'),
      'data = open(src, "rb").read()\nopen(dst, "wb").write(data[: len(data) // 2])',
    );
    await expectRefusedCase([model, '-o', join(root, 'out')], root, 'task-heads-truncated');
  });

  it(
    'a task_heads.pt of random bytes, or a torch zip whose pickle is garbage, is "not a PyTorch checkpoint, or corrupt"',
    async () => {
      const root = scratchDir();
      const model = copyModel(root);
      writeFileSync(join(model, 'task_heads.pt'), randomBytes(20_000));
      await expectRefusedCase([model, '-o', join(root, 'out')], root, 'task-heads-random-bytes');
      await writeHeads(
        python,
        join(model, 'task_heads.pt'),
        'import os, zipfile\nwith zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:\n    for n in z.namelist():\n        out.writestr(n, bytes(range(256)) * 2 if n.endswith("data.pkl") else z.read(n))',
      );
      const run = await expectRefusedCase([model, '-o', join(root, 'out')], root, 'task-heads-garbled-pickle');
      expect(run.stderr).not.toMatch(/refused to load|Python objects/);
    },
    5 * 60_000,
  );

  it(
    'a truncated or garbage encoder/model.safetensors: exit 2 naming the file',
    async () => {
      const root = scratchDir();
      const model = copyModel(root);
      const weights = join(model, 'encoder', 'model.safetensors');
      const full = readFileSync(weights);
      writeFileSync(weights, full.subarray(0, full.length >> 1));
      await expectRefusedCase([model, '-o', join(root, 'out')], root, 'safetensors-truncated');
      writeFileSync(weights, randomBytes(4096));
      await expectRefusedCase([model, '-o', join(root, 'out')], root, 'safetensors-header-garbage');
    },
    5 * 60_000,
  );

  it(
    'an Inf in encoder/model.safetensors: exit 2 at inspect naming the file and the tensor, for export and inspect',
    async () => {
      const root = scratchDir();
      const model = copyModel(root);
      const weights = join(model, 'encoder', 'model.safetensors');
      // BERT's own pooler is never read by the multihead graph: an Inf there changes no output
      const pooler = await setEncoderValue(python, weights, 'pooler.dense.weight');
      const unused = await runCli(['inspect', model, '--no-progress']);
      expect(unused.exitCode, unused.stderr).toBe(0);
      await setEncoderValue(python, weights, 'pooler.dense.weight', pooler.original);
      const query = await setEncoderValue(python, weights, 'encoder.layer.0.attention.self.query.weight');
      const line = `${weights}: tensor "encoder.layer.0.attention.self.query.weight" contains NaN or Inf (1 of ${query.values} values)`;
      const run = await expectRefused([model, '-o', join(root, 'out')], root, { exitCode: 2, message: /NaN or Inf/ });
      expect(run.stderr).toContain(line);
      // found at inspect: no temporary file named, and no step after inspect ran
      expect(`${run.stdout}\n${run.stderr}`).not.toMatch(
        /rapidfit-export-[A-Za-z0-9]+|\.onnx|Export the multihead graph/,
      );
      const inspect = await runCli(['inspect', model, '--no-progress']);
      expect(inspect.exitCode, inspect.stderr).toBe(2);
      expect(inspect.stderr).toContain(line);
    },
    5 * 60_000,
  );

  it('a pickle that would run code is refused and never executed', async () => {
    const root = scratchDir();
    const model = copyModel(root);
    const marker = join(root, 'PWNED');
    await writeHeads(
      python,
      join(model, 'task_heads.pt'),
      `import os\nclass Evil:\n    def __reduce__(self):\n        return (os.system, (${JSON.stringify(`touch ${marker}`)},))\ntorch.save({"task_heads": Evil()}, dst)`,
    );
    const run = await expectRefusedCase([model, '-o', join(root, 'out')], root, 'unsafe-pickle');
    expect(run.stderr).toMatch(/unsupported GLOBAL posix\.system/);
    expect(existsSync(marker)).toBe(false);
  });

  it('head sizes that disagree with the labels', async () => {
    const root = scratchDir();
    const model = copyModel(root);
    await writeHeads(
      python,
      join(model, 'task_heads.pt'),
      'd = torch.load(src, weights_only=True)\nd["task_num_labels"]["topic"] = 4\nd["task_id2label"]["topic"].pop(4)\nlabel = [k for k, v in d["task_label2id"]["topic"].items() if v == 4][0]\nd["task_label2id"]["topic"].pop(label)\ntorch.save(d, dst)',
    );
    await expectRefusedCase([model, '-o', join(root, 'out')], root, 'head-label-mismatch');
  });

  it('an unknown --tasks name', async () => {
    const root = scratchDir();
    await expectRefusedCase(
      [fixturePath('tiny-mean-gelu'), '-o', join(root, 'out'), '--tasks', 'sentiment,colour'],
      root,
      'unknown-task',
    );
  });

  it('a gate for a task the model does not have', async () => {
    const root = scratchDir();
    await expectRefusedCase(
      [fixturePath('tiny-mean-gelu'), '-o', join(root, 'out'), '--gate', 'colour.int8.top1=0.9'],
      root,
      'gate-unknown-task',
    );
  });

  it('an output directory inside the input, or that is a file', async () => {
    const root = scratchDir();
    const model = copyModel(root);
    await expectRefusedCase([model, '-o', join(model, 'bundle')], root, 'output-inside-input');
    expect(existsSync(join(model, 'bundle'))).toBe(false);
    writeFileSync(join(root, 'a-file'), 'keep me');
    await expectRefusedCase([model, '-o', join(root, 'a-file')], root, 'output-is-file');
  });

  it('bad option values and unknown flags', async () => {
    const root = scratchDir();
    await expectRefused([fixturePath('tiny-mean-gelu'), '-o', join(root, 'out'), '--opset', '9'], root, {
      exitCode: 2,
      message: /--opset: opset must be at least 14/,
    });
    await expectRefused([fixturePath('tiny-mean-gelu'), '--colour', 'blue'], root, {
      exitCode: 2,
      message: /^error: export: --colour is not an option of export \(see rapidfit-export export --help\)$/m,
    });
  });

  it('no Python found (exit 4)', async () => {
    const root = scratchDir();
    const run = await expectRefusedCase(
      [fixturePath('tiny-mean-gelu'), '-o', join(root, 'out'), '--python', join(root, 'no-python3')],
      root,
      'no-python',
    );
    expect(run.stderr).toMatch(/hint: install Python 3\.10\+ or pass --python/);
  });

  it(
    'a lock that cannot be installed (exit 4) leaves no half-made venv behind',
    async () => {
      const root = scratchDir();
      const cache = join(root, 'cache');
      mkdirSync(cache);
      // PIP_NO_INDEX makes pip fail at once, offline, as an unreachable index would.
      const run = await expectRefusedCase(
        [fixturePath('tiny-mean-gelu'), '-o', join(root, 'out')],
        root,
        'venv-install-fails',
        { RAPIDFIT_EXPORT_CACHE: cache, PIP_NO_INDEX: '1' },
      );
      expect(run.stderr).toMatch(/hint: check network access to PyPI/);
      expect(readdirSync(cache)).toEqual([]);
    },
    5 * 60_000,
  );
});
