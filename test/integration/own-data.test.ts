import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parityReportSchema } from '../../src/config/report.js';
import { fixturePath, validationPath } from '../../fixtures/models.mjs';
import { runCli, scratchDir } from '../helpers/cli.js';

/**
 * Issue 21 on a confident model (minilm-lang: language ID, heads trained to convergence): its own
 * validation texts (RapidFit seed data) alone choose and judge INT8, and the choice is a quantized
 * graph, not every MatMul at higher precision as the generic texts give. (Speed: bench/own-data.mjs.)
 */
describe('own data on a confident model (minilm-lang)', () => {
  const report = (dir: string) =>
    parityReportSchema.parse(JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8')));

  it(
    'with --samples (seed JSON) it gets a fast INT8 graph judged on its texts; without, the run says what is missing',
    async () => {
      const root = scratchDir('rfe-own-');
      const [own, generic] = await Promise.all([
        runCli([fixturePath('minilm-lang'), '-o', join(root, 'own'), '--samples', validationPath('minilm-lang')]),
        runCli([fixturePath('minilm-lang'), '-o', join(root, 'generic')]),
      ]);
      expect(own.exitCode, own.stderr).toBe(0);
      expect(generic.exitCode, generic.stderr).toBe(0);
      const mine = report(join(root, 'own'));
      const theirs = report(join(root, 'generic'));
      const { splits, origin } = mine.samples;
      expect(origin!.user!.texts).toBe(765);
      expect(splits).toEqual({ calibration: 382, judged: 383, embedded: 213 });
      expect(mine.int8!.judgedSamples).toBe(383);
      // the choice quantizes most MatMuls; on generic texts every one is kept at higher precision
      const kept = (r: typeof mine) => Object.keys(r.int8!.higherPrecision).length;
      expect(kept(theirs)).toBe(38);
      expect(kept(mine)).toBeLessThan(38);
      // what makes it fast: integer MatMuls (dynamic or per-token), not float compute at higher precision
      expect(['dynamic', 'per-token']).toContain(mine.int8!.method);
      const lang = mine.tasks[0]!.comparisons;
      expect(lang.int8!.top1Agreement).toBeGreaterThanOrEqual(0.99);
      expect(lang.int8!.top1Interval![0]).toBeLessThan(lang.int8!.top1Agreement);
      expect(lang.int8!.accuracy).toBeGreaterThan(0.9);
      expect(lang.int8!.labelled).toBe(383);
      // the embedded texts are probes: reported, not gated
      expect(lang['int8-embedded']!.samples).toBe(213);
      expect(mine.tasks[0]!.gates.some((g) => g.comparison === 'int8-embedded')).toBe(false);
      // the speed that chose was measured at the texts' own lengths
      expect(mine.int8!.calibration!.speedupBatch1).toBeGreaterThan(0);
      // warnings: none with 383 judged own texts; both without them, on stdout and in the reports
      expect(mine.samples.warnings).toBeUndefined();
      expect(own.stdout).not.toMatch(/warning:/);
      expect(theirs.samples.warnings).toHaveLength(2);
      expect(generic.stdout).toMatch(
        /^warning: the INT8 choice and its gate rest on 213 generic embedded texts.*--samples/m,
      );
      expect(readFileSync(join(root, 'generic', 'parity-report.md'), 'utf8')).toMatch(
        /\*\*Warning:\*\* the INT8 choice/,
      );
    },
    20 * 60_000,
  );

  it(
    '--samples-limit 0 judges on the user texts alone; --gate-on lower-bound judges the interval and is recorded',
    async () => {
      const out = join(scratchDir('rfe-own0-'), 'b');
      const run = await runCli([
        fixturePath('minilm-lang'),
        '-o',
        out,
        '--samples',
        validationPath('minilm-lang'),
        '--samples-limit',
        '0',
        '--int8',
        'per-token',
        '--gate-on',
        'lower-bound',
        '--gate',
        'int8.top1=0.95',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      const r = report(out);
      expect(r.samples.splits).toEqual({ calibration: 0, judged: 765, embedded: 0 });
      expect(r.tasks[0]!.comparisons['int8-embedded']).toBeUndefined();
      const gate = r.tasks[0]!.gates.find((g) => g.comparison === 'int8' && g.metric === 'top1Agreement')!;
      expect(gate.on).toBe('lower-bound');
      expect(gate.value).toBeLessThan(gate.point!);
      expect(gate.value).toBe(r.tasks[0]!.comparisons.int8!.top1Interval![0]);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.options).toMatchObject({ gateOn: 'lower-bound', samples: ['validation.json'], sampleLimit: 0 });
      // verify re-judges with the recorded gates
      const verify = await runCli(['verify', out]);
      expect(verify.exitCode, verify.stderr).toBe(0);
    },
    20 * 60_000,
  );
});
