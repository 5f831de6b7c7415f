import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parityReportSchema } from '../../src/config/report.js';
import { fixturePath, fortunesHeldoutPath } from '../../src/fixtures.js';
import { runCli, scratchDir } from '../helpers/cli.js';

/**
 * Issue 10's acceptance test: RapidFit heads on MiniLM trained on real short texts (Debian's fortune
 * files), where ORT-style dynamic INT8 keeps < 95% of PyTorch's predictions. The default run must
 * choose INT8 graphs that keep >= 99% on texts it did not choose them on.
 */
describe('INT8 fidelity on a model trained on real texts (minilm-fortunes)', () => {
  it('the default run exits 0 with INT8 top-1 agreement >= 0.99 on the judged split, chosen on a disjoint calibration split', async () => {
    const out = join(scratchDir(), 'bundle');
    const run = await runCli([fixturePath('minilm-fortunes'), '-o', out, '--samples', fortunesHeldoutPath(), '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8')));
    const int8 = report.int8!;
    expect(int8.mode).toBe('auto');
    const calibration = int8.calibration!;
    expect(calibration.samples + int8.judgedSamples).toBe(report.samples.count);
    const verification = JSON.parse(readFileSync(join(out, 'verification.json'), 'utf8')) as { batches: Array<{ split: string; texts: string[] }> };
    const calibrationTexts = new Set(verification.batches.filter((b) => b.split === 'calibration').flatMap((b) => b.texts));
    const judgedTexts = verification.batches.filter((b) => b.split === 'judged').flatMap((b) => b.texts);
    expect(judgedTexts.length).toBe(int8.judgedSamples);
    expect(judgedTexts.filter((text) => calibrationTexts.has(text)).length).toBeLessThanOrEqual(judgedTexts.length * 0.01); // the fortune files repeat a few short lines
    for (const task of report.tasks) {
      expect(task.passed).toBe(true);
      expect(task.comparisons.int8!.samples).toBe(int8.judgedSamples);
      expect(task.comparisons.int8!.top1Agreement).toBeGreaterThanOrEqual(0.99);
      expect(task.comparisons['int8-calibration']!.samples).toBe(calibration.samples);
      expect(task.int8SizeShare!).toBeLessThanOrEqual(0.3);
      expect(task.latency!.map((l) => l.batch)).toEqual([1, 32]);
      expect(statSync(join(out, `${task.task}_int8.onnx`)).size).toBeGreaterThan(0);
    }
    process.stderr.write(
      `[int8-fidelity] ${int8.method} + ${Object.keys(int8.higherPrecision).length} higher-precision MatMuls; judged agreement ${report.tasks
        .map((t) => `${t.task} ${(t.comparisons.int8!.top1Agreement * 100).toFixed(2)}%`)
        .join(', ')}; speed-up at batch 1 ${report.tasks.map((t) => (t.latency![0]!.fp32Ms / t.latency![0]!.int8Ms!).toFixed(2)).join(', ')}${int8.note ? `; ${int8.note}` : ''}\n`,
    );
  }, 20 * 60_000);

  it('ORT-style dynamic INT8 on the same texts stays below 95% on some task (the fixture is hard enough)', async () => {
    const out = join(scratchDir(), 'dynamic');
    const run = await runCli([fixturePath('minilm-fortunes'), '-o', out, '--samples', fortunesHeldoutPath(), '--int8', 'dynamic', '--no-latency', '--json']);
    expect(run.exitCode).toBe(3);
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(`${out}.unverified`, 'parity-report.json'), 'utf8')));
    expect(Math.min(...report.tasks.map((t) => t.comparisons.int8!.top1Agreement))).toBeLessThan(0.95);
  }, 20 * 60_000);
});
