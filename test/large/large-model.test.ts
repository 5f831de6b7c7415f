import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parityReportSchema } from '../../src/config/report.js';
import { buildFixtures, fixturePath, LARGE_FIXTURE } from '../../src/fixtures.js';
import { runCli, scratchDir } from '../helpers/cli.js';

describe('a real model over 2 GB (XLM-R-large-sized encoder + RapidFit heads)', () => {
  beforeAll(async () => {
    await buildFixtures([LARGE_FIXTURE]);
  }, 15 * 60_000);

  it('exports with external data automatically, onnxruntime-node loads it, parity holds', async () => {
    const out = join(scratchDir('rfe-large-'), 'bundle');
    const run = await runCli([fixturePath(LARGE_FIXTURE), '-o', out, '--samples-limit', '16', '--json'], {}, 30 * 60_000);
    expect(run.exitCode, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.tasks.map((t: { weights?: string }) => t.weights)).toEqual(['sentiment_weights.bin', 'spam_weights.bin']);
    expect(statSync(join(out, 'sentiment_weights.bin')).size).toBeGreaterThan(2 ** 31);
    expect(statSync(join(out, 'sentiment.onnx')).size).toBeLessThan(4 * 2 ** 20);
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8')));
    for (const task of report.tasks) expect(task.comparisons.fp32!.maxAbsDiff!).toBeLessThanOrEqual(1e-4);
    const result = JSON.parse(run.stdout) as { timings: Record<string, number> };
    process.stderr.write(`[large] timings ${JSON.stringify(result.timings)}\n`);
  }, 30 * 60_000);
});
