import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parityReportSchema } from '../../src/config/report.js';
import { demoArgs } from '../../scripts/demo-args.mjs';
import { runCli, scratchDir } from '../helpers/cli.js';

describe('the demo model: RapidFit heads on all-MiniLM-L6-v2', () => {
  it(
    "`npm run demo`'s job passes every default gate: FP32 parity <= 1e-4, INT8 (auto) >= 0.99 on the judged split, <= 30% of FP32 size",
    async () => {
      const out = join(scratchDir(), 'bundle');
      const run = await runCli([...demoArgs(out), '--json'], {}, 20 * 60_000);
      expect(run.exitCode, run.stderr).toBe(0);
      const report = parityReportSchema.parse(JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8')));
      expect(report.passed).toBe(true);
      expect(report.samples.count).toBeGreaterThanOrEqual(200);
      expect(report.tasks.map((task) => task.task)).toEqual(['sentiment', 'topic', 'spam']);
      for (const task of report.tasks) {
        expect(task.comparisons.fp32!.maxAbsDiff!).toBeLessThanOrEqual(1e-4);
        expect(task.comparisons.fp32!.top1Agreement).toBe(1);
        expect(task.comparisons.fp32!.nonFinite).toBe(0);
        const gate = task.gates.find((g) => g.comparison === 'int8')!;
        expect(gate.limit).toBe(0.99);
        expect(task.comparisons.int8!.top1Agreement).toBeGreaterThanOrEqual(0.99);
        expect(task.int8SizeShare!).toBeLessThanOrEqual(0.3);
      }
      expect(report.int8!.mode).toBe('auto');
      // the demo's own validation texts choose and judge INT8; the embedded ones are probes beside them
      const { splits, origin, warnings } = report.samples;
      expect(report.int8!.calibration!.samples).toBe(splits!.calibration);
      expect(report.int8!.judgedSamples).toBe(splits!.judged);
      expect(splits!.calibration + splits!.judged).toBe(origin!.user!.texts);
      expect(origin!.user!.labelled).toBe(origin!.user!.texts);
      expect(splits!.embedded).toBe(213);
      expect(report.samples.count).toBe(origin!.user!.texts + 213);
      // its validation data is real but small: the run says the judged split is too small for a 0.99 gate
      expect(warnings).toEqual([
        expect.stringMatching(new RegExp(`judged on ${splits!.judged} texts, fewer than the 300`)),
      ]);
      // one shared encoder per graph: each task file holds the ~90 MB of MiniLM weights once
      const size = statSync(join(out, 'sentiment.onnx')).size;
      expect(size).toBeGreaterThan(85e6);
      expect(size).toBeLessThan(95e6);
      const result = JSON.parse(run.stdout) as { timings: Record<string, number> };
      // every step's time, in --json and in the report
      for (const step of [
        'bridge',
        'inspect',
        'trace',
        'export',
        'configs',
        'tokenizer',
        'reference',
        'quantize',
        'verify',
        'bundle',
      ])
        expect(result.timings[step], step).toBeGreaterThan(0);
      expect(Object.keys(report.timings!)).toEqual(
        expect.arrayContaining(['trace', 'reference', 'quantize', 'verify']),
      );
      // the search judged its trials against PyTorch, stopped failing ones early, and the verification ran
      // each task graph against the multihead graph (bit-identical), the multihead graph on every text
      const calibration = report.int8!.calibration!;
      expect(calibration.against).toBe('PyTorch');
      expect(calibration.trials.every((t) => !t.stoppedEarly || !t.passed)).toBe(true);
      // after the fastest (every MatMul dynamic) misses, the most precise; the ones between only when it passed
      const [fastest, precise, ...between] = calibration.trials;
      expect(fastest).toMatchObject({ base: 'dynamic', fallbackNodes: 0, passed: false });
      expect(between.every((t) => t.fallbackNodes < precise!.fallbackNodes)).toBe(true);
      if (!precise!.passed) expect(between).toEqual([]);
      for (const task of report.tasks) {
        expect(task.comparisons.int8!.measuredOn).toMatchObject({ graph: 'multihead_int8.onnx', maxAbsDiff: 0 });
        expect(task.comparisons['multihead-int8']!.samples).toBe(task.comparisons.int8!.samples);
        // the multihead INT8 graph's calibration rows are the INT8 search's logits, bit-identical on its first batches
        expect(task.comparisons['multihead-int8-calibration']!.measuredOn).toMatchObject({
          graph: 'the INT8 search (its chosen graph)',
          maxAbsDiff: 0,
        });
        expect(task.comparisons['multihead-int8']!.measuredOn).toBeUndefined();
        // and the FP32 multihead graph's calibration rows are the FP32 outputs of the search's error probe
        const checked =
          report.tasks.length > 0 ? task.comparisons['multihead-int8-calibration']!.measuredOn!.checkedSamples : 0;
        expect(task.comparisons['multihead-fp32']!.measuredOn).toEqual({
          graph: "the INT8 search's error probe (the FP32 nodes, unchanged)",
          checkedSamples: checked,
          maxAbsDiff: 0,
          standInSamples: calibration.samples - checked,
        });
      }
      // and `verify`, which runs every file of the bundle on every stored sample, gets the same numbers
      const verified = await runCli(['verify', out, '--json']);
      expect(verified.exitCode, verified.stderr).toBe(0);
      const rerun = (
        JSON.parse(verified.stdout) as {
          tasks: Array<{ task: string; comparisons: Record<string, Record<string, unknown>> }>;
        }
      ).tasks;
      for (const task of report.tasks) {
        const again = rerun.find((t) => t.task === task.task)!.comparisons;
        for (const key of [
          'multihead-int8-calibration',
          'int8-calibration',
          'multihead-int8',
          'int8',
          'multihead-fp32',
          'fp32',
        ]) {
          for (const metric of ['samples', 'maxAbsDiff', 'meanAbsDiff', 'minCosine', 'top1Agreement'] as const) {
            expect(again[key]![metric], `${task.task} ${key} ${metric}`).toBe(task.comparisons[key]![metric]);
          }
        }
      }
    },
    25 * 60_000,
  );
});
