import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parityReportSchema } from '../../src/config/report.js';
import { fixturePath, fortunesHeldoutPath } from '../../fixtures/models.mjs';
import { runCli, scratchDir } from '../helpers/cli.js';

/**
 * Issue 10: RapidFit heads on MiniLM trained on real short texts (Debian's fortune files), where
 * ORT-style dynamic INT8 keeps < 95% of PyTorch's topic predictions. The default run (`auto`) must
 * choose on texts disjoint from the ones it is judged on and pass the 0.99 gate on the judged ones
 * within 30% of FP32 size. (Measured: topic 99.59%, lang 100% judged, 29.3% size.)
 */
describe('INT8 fidelity on a model trained on real texts (minilm-fortunes)', () => {
  let dynamicTopic: number;

  it(
    'ORT-style dynamic INT8 keeps < 95% of the topic predictions on the judged texts (the fixture is hard enough)',
    async () => {
      const out = join(scratchDir(), 'dynamic');
      const run = await runCli([
        fixturePath('minilm-fortunes'),
        '-o',
        out,
        '--samples',
        fortunesHeldoutPath(),
        '--int8',
        'dynamic',
        '--no-latency',
        '--json',
      ]);
      expect(run.exitCode).toBe(3);
      const report = parityReportSchema.parse(
        JSON.parse(readFileSync(join(`${out}.unverified`, 'parity-report.json'), 'utf8')),
      );
      dynamicTopic = report.tasks.find((t) => t.task === 'topic')!.comparisons.int8!.top1Agreement;
      expect(dynamicTopic).toBeLessThan(0.95);
    },
    20 * 60_000,
  );

  it(
    'the default run (auto) chooses on a calibration split, judges on a disjoint one, and passes the 0.99 gate within 30% of FP32 size',
    async () => {
      const out = join(scratchDir(), 'bundle');
      // ~4 min alone; the search runs 2-3x longer while other test files share the 2 cores
      const run = await runCli(
        [fixturePath('minilm-fortunes'), '-o', out, '--samples', fortunesHeldoutPath(), '--json'],
        {},
        25 * 60_000,
      );
      expect(run.exitCode, run.stderr).toBe(0);
      const dir = out;
      const report = parityReportSchema.parse(JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8')));
      const int8 = report.int8!;
      expect(int8.mode).toBe('auto');
      const calibration = int8.calibration!;
      // the held-out texts alone choose and judge INT8; the 213 embedded ones are probes beside them
      expect(calibration.samples + int8.judgedSamples).toBe(report.samples.origin!.user!.texts);
      expect(report.samples.splits).toEqual({
        calibration: calibration.samples,
        judged: int8.judgedSamples,
        embedded: 213,
      });
      expect(calibration.trials.length).toBeGreaterThanOrEqual(2);
      // judged against PyTorch, as the gate is; ORT-style dynamic (< 95%) fails the first trial within a few batches
      expect(calibration.against).toBe('PyTorch');
      expect(calibration.trials[0]).toMatchObject({
        base: 'dynamic',
        fallbackNodes: 0,
        passed: false,
        stoppedEarly: true,
      });
      const verification = JSON.parse(readFileSync(join(dir, 'verification.json'), 'utf8')) as {
        batches: Array<{ split: string; firstIndex: number; texts: string[] }>;
      };
      const indices = (split: string) =>
        verification.batches.filter((b) => b.split === split).flatMap((b) => b.texts.map((_, i) => b.firstIndex + i));
      const calibrationIndices = new Set(indices('calibration'));
      expect(indices('judged').length).toBe(int8.judgedSamples);
      expect(indices('judged').some((index) => calibrationIndices.has(index))).toBe(false);
      for (const task of report.tasks) {
        const judged = task.comparisons.int8!;
        expect(judged.samples).toBe(int8.judgedSamples);
        expect(task.comparisons['int8-calibration']!.samples).toBe(calibration.samples);
        expect(task.gates.find((g) => g.comparison === 'int8')!.limit).toBe(0.99);
        expect(task.passed).toBe(true);
        expect(judged.top1Agreement).toBeGreaterThanOrEqual(0.99);
        // what flips are near-ties: every text with a clear PyTorch margin keeps its prediction
        expect(judged.confidentAgreement).toBe(1);
        expect(task.int8SizeShare!).toBeLessThanOrEqual(0.3);
        // latency is measured only on request (--latency); the search's speed figure is in the report anyway
        expect(task.latency).toBeUndefined();
        expect(judged.measuredOn).toMatchObject({ graph: 'multihead_int8.onnx', maxAbsDiff: 0 });
      }
      expect(report.tasks.find((t) => t.task === 'topic')!.comparisons.int8!.top1Agreement).toBeGreaterThan(
        dynamicTopic,
      );
      // when the passing mix is slower than the speed goal, the trade-off is said in one line and recorded
      // the choice's speed is measured at the texts' lengths, and a miss of the 1.5x goal is said in one line
      const speedup = int8.calibration!.speedupBatch1;
      expect(speedup).toBeGreaterThan(0);
      if (speedup! < 1.5) expect(int8.note).toMatch(/chose the fastest that passes \(\d+\.\d+x at \d+ tokens/);
      else expect(int8.note ?? '').not.toMatch(/chose the fastest/);
      process.stderr.write(
        `[int8-fidelity] exit ${run.exitCode}; ${int8.method} + ${Object.keys(int8.higherPrecision).length} higher-precision MatMuls; judged agreement ${report.tasks
          .map((t) => `${t.task} ${(t.comparisons.int8!.top1Agreement * 100).toFixed(2)}%`)
          .join(', ')} (dynamic topic ${(dynamicTopic * 100).toFixed(2)}%)${int8.note ? `; ${int8.note}` : ''}\n`,
      );
    },
    30 * 60_000,
  );
});
