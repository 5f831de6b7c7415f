import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, validationPath } from '../../fixtures/models.mjs';
import { bridgeCacheKey } from '../../src/bridge/cache-key.js';
import { findPython } from '../../src/bridge/python.js';
import { ensureBridgeEnvironment, lockHash, venvDirFor } from '../../src/bridge/venv.js';
import { compareBundles, GateError, type CompareResult } from '../../src/index.js';
import { LOCK_FILE, PACKAGE_ROOT } from '../../src/paths.js';
import { runCli, scratchDir } from '../helpers/cli.js';

// The model-release recipe end to end without GitHub (scripts/release-dry-run.mjs runs the action's steps
// in order): the demo (minilm-3task) is the previous release; minilm-3task-retrained is the demo after
// more training on relabelled texts (two neutral phrases now positive): its predictions flip, so
// `compare` fails with exit 3 and names the texts. Re-releasing the unchanged demo passes.

const SCRIPT = join(PACKAGE_ROOT, 'scripts', 'release-dry-run.mjs');
/** weight-only INT8 keeps the demo within its INT8 gate and is the quickest method to build. */
const EXPORT_ARGS = '--export-args=--int8 weight-only';

interface DryRun {
  exitCode: number;
  stdout: string;
  steps: Array<{ name: string; exitCode: number; error?: string }>;
  out: string;
}

async function dryRun(out: string, previous: string, model: string): Promise<DryRun> {
  const run = await execa(
    'node',
    [
      SCRIPT,
      '--out',
      out,
      '--previous',
      previous,
      '--model',
      model,
      '--samples',
      validationPath('minilm-3task'),
      EXPORT_ARGS,
    ],
    { reject: false, timeout: 15 * 60_000 },
  );
  const report = JSON.parse(readFileSync(join(out, 'dry-run.json'), 'utf8')) as { steps: DryRun['steps'] };
  return { exitCode: run.exitCode ?? -1, stdout: run.stdout, steps: report.steps, out };
}

const changedOf = (result: CompareResult, task: string, variant: string) =>
  result.comparisons.find((c) => c.task === task && c.variant === variant)!.metrics;

describe('the release recipe (scripts/release-dry-run.mjs)', () => {
  const root = scratchDir('rfe-release-');
  let retrained: DryRun;
  let unchanged: DryRun;

  beforeAll(async () => {
    // exports the demo (the previous release) and the retrained demo
    retrained = await dryRun(
      join(root, 'retrained'),
      fixturePath('minilm-3task'),
      fixturePath('minilm-3task-retrained'),
    );
    // the previous release as the downloaded artifact (a bundle, used as is); the unchanged demo re-exported
    unchanged = await dryRun(join(root, 'unchanged'), join(root, 'retrained', 'previous'), fixturePath('minilm-3task'));
  }, 20 * 60_000);

  it("runs the action's steps in order and maps compare's exit 3 to the action's ::error:: line", () => {
    expect(retrained.steps.map((step) => [step.name, step.exitCode])).toEqual([
      ['bridge key', 0],
      ['bridge doctor', 0],
      ['export previous', 0],
      ['export release', 0],
      ['compare', 3],
    ]);
    expect(retrained.exitCode).toBe(3);
    expect(retrained.stdout.trim()).toBe(
      '::error title=rapidfit-export compare failed (exit 3)::a parity gate failed: the bundle does not predict what the model (or the previous release) does; nothing was published',
    );
  });

  it('the retrained model fails compare: the relabelled texts flipped from neutral to positive, accuracy dropped', () => {
    const json = JSON.parse(readFileSync(join(retrained.out, 'compare.json'), 'utf8')) as {
      ok: boolean;
      exitCode: number;
      error: { message: string };
      result: CompareResult;
    };
    expect(json).toMatchObject({ ok: false, exitCode: 3 });
    expect(json.error.message).toMatch(
      /^release gate failed: task "sentiment" fp32: agreement = 0\.\d+, limit >= 0\.9900/,
    );
    const result = json.result;
    expect(result.comparisons.map((c) => `${c.task}/${c.variant}`)).toEqual([
      'sentiment/fp32',
      'topic/fp32',
      'spam/fp32',
      'sentiment/int8',
      'topic/int8',
      'spam/int8',
    ]);
    for (const variant of ['fp32', 'int8']) {
      const sentiment = changedOf(result, 'sentiment', variant);
      expect(sentiment.agreement).toBeLessThan(0.99);
      expect(sentiment.agreementInterval[1]).toBeLessThan(0.99);
      const relabelled = sentiment.changed.filter(
        (t) => /(arrived on Tuesday|opens at nine)\.$/.test(t.text) && t.gold,
      );
      // every validation text with a relabelled phrase: 2 phrases x 5 subjects (fixtures/demo_data.py)
      expect(relabelled).toHaveLength(10);
      for (const text of relabelled) expect(text).toMatchObject({ old: 'neutral', new: 'positive', gold: 'neutral' });
      expect(sentiment.accuracy!.old).toBe(1);
      const nowWrong = sentiment.changed.filter((t) => t.gold !== undefined && t.new !== t.gold).length;
      expect(sentiment.accuracy!.drop).toBeCloseTo(nowWrong / sentiment.accuracy!.labelled, 9);
      expect(sentiment.accuracy!.dropInterval[0]).toBeGreaterThan(0);
      expect(sentiment.shift.maxProbability).toBeGreaterThan(0.5);
    }
    const md = readFileSync(join(retrained.out, 'compare.md'), 'utf8');
    expect(md).toMatch(/^## Release comparison: FAILED\n/);
    expect(md).toMatch(/The restaurant opens at nine\.": neutral \(0\.\d\d\) -> positive/);
    const junit = readFileSync(join(retrained.out, 'compare-junit.xml'), 'utf8');
    expect(junit).toMatch(
      /<testcase classname="sentiment" name="int8 new vs old agreement &gt;= 0.9900"><failure message="agreement = 0\.\d+/,
    );
    // the steps' Markdown went to the step summary, as in GitHub Actions: both exports' reports, then compare's
    const summary = readFileSync(join(retrained.out, 'step-summary.md'), 'utf8');
    expect(summary.indexOf('## Release comparison: FAILED')).toBeGreaterThan(0);
  });

  it('the same model released again passes compare (exit 0)', () => {
    expect(unchanged.steps.map((step) => [step.name, step.exitCode])).toEqual([
      ['bridge key', 0],
      ['bridge doctor', 0],
      ['export release', 0],
      ['compare', 0],
    ]);
    expect(unchanged.exitCode).toBe(0);
    expect(unchanged.stdout).toBe('');
    const result = JSON.parse(readFileSync(join(unchanged.out, 'compare.json'), 'utf8')) as CompareResult & {
      ok: boolean;
    };
    expect(result.ok).toBe(true);
    expect(result.texts.count).toBeGreaterThan(300);
    for (const comparison of result.comparisons) {
      // the export is deterministic: the same graphs, bit for bit
      expect(comparison.metrics).toMatchObject({ agreement: 1, changed: [] });
      expect(comparison.metrics.shift.maxLogit).toBe(0);
      expect(comparison.labels).toMatchObject({ added: [], removed: [], reordered: false });
    }
    expect(result.comparisons.map((c) => c.variant)).toContain('int8');
  });

  it('gates: --min-agreement and --max-accuracy-drop decide the exit code (CLI and compareBundles)', async () => {
    const previous = join(retrained.out, 'previous');
    const release = join(retrained.out, 'release');
    const samples = validationPath('minilm-3task');
    const lenient = await runCli([
      'compare',
      previous,
      release,
      '--variant',
      'int8',
      '--tasks',
      'sentiment',
      '--min-agreement',
      '0.5',
    ]);
    expect(lenient.exitCode, lenient.stderr).toBe(0);
    const accuracy = await runCli([
      'compare',
      previous,
      release,
      '--variant',
      'int8',
      '--min-agreement',
      '0.5',
      '--max-accuracy-drop',
      '0.02',
      '--samples',
      samples,
    ]);
    expect(accuracy.exitCode).toBe(3);
    expect(accuracy.stderr).toMatch(
      /^error: .*release: release gate failed: task "sentiment" int8: accuracy_drop = 0\.\d+, limit <= 0\.0200$/m,
    );
    const failed = await compareBundles(previous, release, { variants: ['fp32'], samples: [samples] }).catch(
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(GateError);
    const result = (failed as GateError).payload as CompareResult;
    expect(changedOf(result, 'sentiment', 'fp32').changed.length).toBeGreaterThan(10);
  });
});

describe('rapidfit-export bridge key', () => {
  it("is the venv directory's own name (lock sha256, Python) with the OS, CPU and Python patch version", async () => {
    const run = await runCli(['bridge', 'key']);
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const interpreter = await findPython();
    // what the export uses: the venv ensureBridgeEnvironment returns
    const environment = await ensureBridgeEnvironment(interpreter);
    const venvName = environment.venvDir.split('/').pop()!;
    expect(lines[0]).toBe(
      `rapidfit-export-bridge-${process.platform}-${process.arch}-py${interpreter.version.join('.')}-${venvName}`,
    );
    const json = JSON.parse((await runCli(['bridge', 'key', '--json'])).stdout);
    expect(json).toMatchObject({
      key: lines[0],
      venvDir: environment.venvDir,
      lockSha256: environment.lockHash,
      lockFile: LOCK_FILE,
    });
    expect(environment.venvDir.startsWith(json.cacheDir)).toBe(true);
    const elsewhere = await runCli(['bridge', 'key', '--json'], { RAPIDFIT_EXPORT_CACHE: '/tmp/rfe-cache-elsewhere' });
    expect(JSON.parse(elsewhere.stdout)).toMatchObject({ key: lines[0], cacheDir: '/tmp/rfe-cache-elsewhere' });
  });

  it('changes when the lock changes', async () => {
    const interpreter = await findPython();
    const lock = join(scratchDir('rfe-lock-'), 'requirements.lock');
    copyFileSync(LOCK_FILE, lock);
    expect(bridgeCacheKey(interpreter, lock).key).toBe(bridgeCacheKey(interpreter).key);
    writeFileSync(lock, `${readFileSync(lock, 'utf8')}# one more pin\n`);
    const changed = bridgeCacheKey(interpreter, lock);
    expect(changed.key).not.toBe(bridgeCacheKey(interpreter).key);
    expect(changed.lockSha256).toBe(lockHash(lock));
    expect(changed.venvDir).toBe(venvDirFor(interpreter, lockHash(lock)));
    expect(changed.key.endsWith(changed.venvDir.split('/').pop()!)).toBe(true);
  });
});
