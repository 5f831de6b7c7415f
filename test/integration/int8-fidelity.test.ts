import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parityReportSchema } from '../../src/config/report.js';
import { fixturePath, fortunesHeldoutPath } from '../../fixtures/models.mjs';
import { runCli, scratchDir } from '../helpers/cli.js';

/**
 * Issue 10: RapidFit heads on MiniLM trained on real short texts (Debian's fortune files), where
 * ORT-style dynamic INT8 keeps < 95% of PyTorch's topic predictions. `auto` must choose on texts
 * disjoint from the ones it is judged on, keep the 0.99 gate, and recover most of the loss. (Measured
 * here: topic 98.8% judged, lang 99.8%: the topic gate is still missed by a few near-tied texts.)
 */
describe('INT8 fidelity on a model trained on real texts (minilm-fortunes)', () => {
  let dynamicTopic: number;

  it('ORT-style dynamic INT8 keeps < 95% of the topic predictions on the judged texts (the fixture is hard enough)', async () => {
    const out = join(scratchDir(), 'dynamic');
    const run = await runCli([fixturePath('minilm-fortunes'), '-o', out, '--samples', fortunesHeldoutPath(), '--int8', 'dynamic', '--no-latency', '--json']);
    expect(run.exitCode).toBe(3);
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(`${out}.unverified`, 'parity-report.json'), 'utf8')));
    dynamicTopic = report.tasks.find((t) => t.task === 'topic')!.comparisons.int8!.top1Agreement;
    expect(dynamicTopic).toBeLessThan(0.95);
  }, 20 * 60_000);

  it('the default run (auto) chooses on a calibration split, judges on a disjoint one, keeps the gate at 0.99, and recovers most of the loss', async () => {
    const out = join(scratchDir(), 'bundle');
    const run = await runCli([fixturePath('minilm-fortunes'), '-o', out, '--samples', fortunesHeldoutPath(), '--json']);
    // the gate is never lowered: either the bundle is verified at 0.99, or it is refused (exit 3) and kept apart
    expect([0, 3], run.stderr).toContain(run.exitCode);
    const dir = run.exitCode === 0 ? out : `${out}.unverified`;
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8')));
    const int8 = report.int8!;
    expect(int8.mode).toBe('auto');
    const calibration = int8.calibration!;
    expect(calibration.samples + int8.judgedSamples).toBe(report.samples.count);
    expect(calibration.trials.length).toBeGreaterThanOrEqual(2);
    const verification = JSON.parse(readFileSync(join(dir, 'verification.json'), 'utf8')) as { batches: Array<{ split: string; firstIndex: number; texts: string[] }> };
    const indices = (split: string) => verification.batches.filter((b) => b.split === split).flatMap((b) => b.texts.map((_, i) => b.firstIndex + i));
    const calibrationIndices = new Set(indices('calibration'));
    expect(indices('judged').length).toBe(int8.judgedSamples);
    expect(indices('judged').some((index) => calibrationIndices.has(index))).toBe(false);
    for (const task of report.tasks) {
      const judged = task.comparisons.int8!;
      expect(judged.samples).toBe(int8.judgedSamples);
      expect(task.comparisons['int8-calibration']!.samples).toBe(calibration.samples);
      expect(task.gates.find((g) => g.comparison === 'int8')!.limit).toBe(0.99);
      expect(task.passed).toBe(judged.top1Agreement >= 0.99);
      // what flips are near-ties: every text with a clear PyTorch margin keeps its prediction
      expect(judged.confidentAgreement).toBe(1);
      expect(task.int8SizeShare!).toBeLessThanOrEqual(0.3);
      expect(task.latency!.map((l) => l.batch)).toEqual([1, 32]);
    }
    const topic = report.tasks.find((t) => t.task === 'topic')!.comparisons.int8!.top1Agreement;
    expect(topic).toBeGreaterThanOrEqual(0.98);
    expect(topic).toBeGreaterThan(dynamicTopic);
    expect(report.tasks.find((t) => t.task === 'lang')!.comparisons.int8!.top1Agreement).toBeGreaterThanOrEqual(0.99);
    process.stderr.write(
      `[int8-fidelity] exit ${run.exitCode}; ${int8.method} + ${Object.keys(int8.higherPrecision).length} higher-precision MatMuls; judged agreement ${report.tasks
        .map((t) => `${t.task} ${(t.comparisons.int8!.top1Agreement * 100).toFixed(2)}%`)
        .join(', ')} (dynamic topic ${(dynamicTopic * 100).toFixed(2)}%)${int8.note ? `; ${int8.note}` : ''}\n`,
    );
  }, 20 * 60_000);
});
