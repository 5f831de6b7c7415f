import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';

// issue 24: a NaN head weight used to exit 2 naming a temporary multihead ONNX file and an internal
// tensor ("heads.intent.0.weight_Transposed"); it is the user's task_heads.pt, found at inspect
describe('a task_heads.pt with a NaN weight', () => {
  const root = scratchDir('rfe-nan-');
  const model = join(root, 'model');
  let parameter = '';

  beforeAll(async () => {
    cpSync(fixturePath('tiny-mean-gelu'), model, { recursive: true });
    const python = await bridgePython();
    const run = await execa(
      python,
      [
        '-c',
        [
          'import sys, torch',
          'path = sys.argv[1]',
          'data = torch.load(path, map_location="cpu", weights_only=True)',
          'key = sorted(k for k, v in data["task_heads"].items() if v.is_floating_point() and v.dim() == 2)[0]',
          'data["task_heads"][key].view(-1)[3] = float("nan")',
          'torch.save(data, path)',
          'print(key)',
        ].join('\n'),
        join(model, 'task_heads.pt'),
      ],
      { env: { PYTHONWARNINGS: 'ignore' } },
    );
    parameter = run.stdout.trim();
  }, 120_000);

  it('export exits 2 at inspect, naming task_heads.pt and the parameter, and writes nothing', async () => {
    const out = join(root, 'out');
    const run = await runCli([model, '-o', out, '--no-progress']);
    expect(run.exitCode, run.stderr).toBe(2);
    const message = `${run.stdout}\n${run.stderr}`;
    expect(message).toContain(`${join(model, 'task_heads.pt')}: parameter "${parameter}" contains NaN or Inf (1 of `);
    expect(message).not.toMatch(/rapidfit-export-[A-Za-z0-9]+|\.onnx|_Transposed|Traceback/);
    // refused before the export: no step after inspect ran
    expect(message).not.toMatch(/Export the multihead graph|Run PyTorch/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).sort()).toEqual(['model']);
  });

  it('inspect exits 2 with the same message', async () => {
    const run = await runCli(['inspect', model, '--no-progress']);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toContain(`task_heads.pt: parameter "${parameter}" contains NaN or Inf`);
  });
});
