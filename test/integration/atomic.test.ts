import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { CLI, isRunning, leftovers, runCli, scratchDir } from '../helpers/cli.js';
import { expectCase } from '../helpers/reliability.js';

describe('atomic bundles', () => {
  it(
    'a failed parity gate exits 3, names the task, keeps the previous bundle and marks the candidate unverified',
    async () => {
      const root = scratchDir();
      const out = join(root, 'bundle');
      const first = await runCli([
        fixturePath('tiny-max-tanh'),
        '-o',
        out,
        '--samples-limit',
        '20',
        '--quantize',
        'none',
        '--no-progress',
      ]);
      expect(first.exitCode, first.stderr).toBe(0);
      const manifestBefore = readFileSync(join(out, 'manifest.json'), 'utf8');

      const failed = await runCli([
        fixturePath('tiny-max-tanh'),
        '-o',
        out,
        '--samples-limit',
        '20',
        '--quantize',
        'none',
        '--fp32-tolerance',
        '1e-15',
        '--json',
      ]);
      expect(failed.exitCode).toBe(3);
      expect(failed.stderr).toMatch(
        /parity gate failed: task "language": fp32 maxAbsDiff = [0-9.e-]+, limit <= 1\.00e-15/,
      );
      expectCase('parity-gate-failed', failed);
      const json = JSON.parse(failed.stdout);
      expect(json).toMatchObject({ ok: false, exitCode: 3, result: { verified: false } });

      expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifestBefore);
      const unverified = `${out}.unverified`;
      const manifest = JSON.parse(readFileSync(join(unverified, 'manifest.json'), 'utf8'));
      expect(manifest.verified).toBe(false);
      expect(readFileSync(join(unverified, 'parity-report.md'), 'utf8')).toMatch(
        /# Parity report: FAILED[\s\S]*\*\*FAIL\*\*/,
      );
      expect(leftovers(root)).toEqual([]);

      const again = await runCli([
        fixturePath('tiny-max-tanh'),
        '-o',
        out,
        '--samples-limit',
        '20',
        '--quantize',
        'none',
        '--no-progress',
      ]);
      expect(again.exitCode).toBe(0);
    },
    10 * 60_000,
  );

  it(
    'Ctrl-C during the export stops the bridge and leaves nothing behind',
    async () => {
      const root = scratchDir();
      const out = join(root, 'bundle');
      const child = execa('node', [CLI, fixturePath('minilm-3task'), '-o', out, '--no-progress'], {
        reject: false,
        all: true,
      });
      let bridgePid = 0;
      let sent = false;
      child.all.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        const pid = /bridge ready \(pid (\d+)/.exec(text);
        if (pid) bridgePid = Number(pid[1]);
        if (!sent && /tracing the shared encoder/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      const result = await child;
      expect(sent).toBe(true);
      expect(result.exitCode).toBe(130);
      expect(result.all).toMatch(/interrupted \(SIGINT\); nothing was written/);
      expect(bridgePid).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(isRunning(bridgePid)).toBe(false);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(root)).toEqual([]);
    },
    5 * 60_000,
  );
});
