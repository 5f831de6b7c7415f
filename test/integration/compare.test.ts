import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { compareBundles, GateError, InputError } from '../../src/index.js';
import { rechecksum } from '../helpers/bundle-files.js';
import { runCli, scratchDir } from '../helpers/cli.js';

// `compare` on one exported bundle of a tiny 3-task model and copies of it edited by hand (labels renamed,
// tasks removed, a variant dropped, a tokenizer rewritten, a file altered). Two real releases of the demo
// (a retrained model whose predictions flip) are compared in release.test.ts.

interface Manifest {
  tasks: Array<Record<string, unknown> & { name: string; config: string }>;
  multihead?: Record<string, unknown> & { outputs: Record<string, string> };
  files: Array<{ path: string }>;
}

/** A bad-input run: exit 2, one line on stderr, and nothing ran (no graph's progress line). */
function expectRefused(run: { exitCode: number; stderr: string }, message: RegExp) {
  expect(run.exitCode, run.stderr).toBe(2);
  expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/compare: old|^\s+at /m);
}

describe('rapidfit-export compare <old> <new>', () => {
  const root = scratchDir('rfe-compare-');
  const bundle = join(root, 'v1');
  const samples = join(root, 'labelled.jsonl');

  beforeAll(async () => {
    const run = await runCli([
      fixturePath('tiny-mean-gelu'),
      '-o',
      bundle,
      '--samples-limit',
      '60',
      '--int8',
      'weight-only',
      '--no-progress',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(bundle, 'spam_config.json'), 'utf8')) as {
      id2label: Record<string, string>;
    };
    const lines = ['Win a free prize now', 'See you at lunch', 'Cheap pills', 'The report is due'].map((text, index) =>
      JSON.stringify({ text, labels: { spam: config.id2label[String(index % 2)] } }),
    );
    writeFileSync(samples, `${lines.join('\n')}\n`);
  }, 5 * 60_000);

  /** A copy of the bundle with its manifest (and, through `edit`, any file) changed, checksums rewritten. */
  function editedCopy(name: string, edit: (dir: string, manifest: Manifest) => void, source = bundle): string {
    const dir = join(root, name);
    cpSync(source, dir, { recursive: true });
    const manifestFile = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    edit(dir, manifest);
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
    return dir;
  }

  function dropFiles(dir: string, manifest: Manifest, paths: string[]) {
    for (const path of paths) rmSync(join(dir, path));
    manifest.files = manifest.files.filter((file) => !paths.includes(file.path));
  }

  it('the same bundle twice: every task and variant agrees 100%, exit 0; --json, --md and --junit', async () => {
    const md = join(root, 'same.md');
    const junit = join(root, 'same.xml');
    const html = join(root, 'same.html');
    const run = await runCli([
      'compare',
      bundle,
      bundle,
      '--json',
      '--md',
      md,
      '--html',
      html,
      '--junit',
      junit,
      '--samples',
      samples,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: true, passed: true, tokenizer: { same: true } });
    expect(result.texts).toMatchObject({ count: 64, samples: 4, labelled: 4 });
    expect(result.comparisons.map((c: { task: string; variant: string }) => `${c.task}/${c.variant}`)).toEqual([
      'sentiment/fp32',
      'topic/fp32',
      'spam/fp32',
      'sentiment/int8',
      'topic/int8',
      'spam/int8',
    ]);
    for (const c of result.comparisons) {
      expect(c.metrics).toMatchObject({ texts: 64, agreed: 64, agreement: 1, changed: [] });
      expect(c.metrics.shift.maxLogit).toBe(0);
      expect(c.size.delta).toBe(0);
      expect(c.metrics.agreementInterval[0]).toBeGreaterThan(0.9);
    }
    const spam = result.comparisons.find((c: { task: string }) => c.task === 'spam');
    expect(spam.metrics.accuracy).toMatchObject({ labelled: 4, drop: 0 });
    expect(result.comparisons.find((c: { task: string }) => c.task === 'topic').metrics.accuracy).toBeUndefined();
    expect(result.latency.map((l: { variant: string }) => l.variant)).toEqual(['fp32', 'int8']);
    expect(readFileSync(md, 'utf8')).toMatch(/^## Release comparison: passed\n/);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<title>Release comparison: PASS<\/title>/);
    expect(page).not.toMatch(/https?:|<script|\ssrc=/); // self-contained: nothing to fetch, nothing to run
    expect(page.match(/<tr><th scope="row">/g)).toHaveLength(6);
    expect(page).not.toMatch(/Changed texts/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="rapidfit-export compare" tests="6" failures="0">/);
    expect(xml).toMatch(/<testcase classname="spam" name="int8 new vs old agreement &gt;= 0.9900">/);
  });

  it('labels are matched by name: a renamed label is reported added/removed and its texts as changed', async () => {
    const predicted = await runCli([
      'predict',
      bundle,
      'Win a free prize now',
      '--tasks',
      'spam',
      '--variant',
      'fp32',
      '--json',
    ]);
    const label = (JSON.parse(predicted.stdout) as { predictions: { spam: { label: string } } }).predictions.spam.label;
    const renamed = editedCopy('renamed-label', (dir) => {
      const file = join(dir, 'spam_config.json');
      const config = JSON.parse(readFileSync(file, 'utf8')) as {
        id2label: Record<string, string>;
        label2id: Record<string, number>;
      };
      const id = config.label2id[label]!;
      config.id2label[String(id)] = 'junk';
      delete config.label2id[label];
      config.label2id.junk = id;
      rmSync(file);
      writeFileSync(file, JSON.stringify(config));
    });
    rechecksum(renamed, 'spam_config.json');
    const run = await runCli([
      'compare',
      bundle,
      renamed,
      '--json',
      '--tasks',
      'spam',
      '--variant',
      'fp32',
      '--samples',
      samples,
      '--html',
      join(root, 'renamed.html'),
    ]);
    expect(run.exitCode, run.stderr).toBe(3);
    const { result } = JSON.parse(run.stdout);
    const [spam] = result.comparisons;
    const page = readFileSync(join(root, 'renamed.html'), 'utf8');
    expect(page).toMatch(/<p class="verdict">✗ FAIL<\/p>/);
    expect(page).toMatch(/<h2>Changed texts<\/h2>/);
    const shown = spam.metrics.changed.slice(0, 10) as Array<{ text: string }>;
    expect(page.match(/<td class="text">/g)).toHaveLength(shown.length);
    expect(page).toContain(`<td class="text">${shown[0]!.text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</td>`);
    const other = Object.values(JSON.parse(readFileSync(join(bundle, 'spam_config.json'), 'utf8')).id2label).find(
      (name) => name !== label,
    );
    expect(spam.labels).toEqual({ common: [other], added: ['junk'], removed: [label], reordered: false });
    expect(spam.metrics.changed.length).toBe(spam.metrics.texts - spam.metrics.agreed);
    expect(spam.metrics.changed.map((t: { text: string }) => t.text)).toContain('Win a free prize now');
    for (const text of spam.metrics.changed) expect(text).toMatchObject({ old: label, new: 'junk' });
    // the common label's probabilities come from the same graph: no shift
    expect(spam.metrics.shift.maxProbability).toBe(0);
    expect(run.stderr).toMatch(/release gate failed: task "spam" fp32: agreement = /);
  });

  it('tasks that differ: the common ones are compared, the others listed; no common task is exit 2', async () => {
    const spamOnly = editedCopy('spam-only', (dir, manifest) => {
      const dropped = manifest.tasks.filter((task) => task.name !== 'spam');
      const files = dropped.flatMap((task) =>
        ['config', 'fp32', 'int8', 'weights', 'int8Weights'].flatMap((key) =>
          typeof task[key] === 'string' ? [task[key]] : [],
        ),
      );
      const multihead = ['fp32', 'int8', 'weights', 'int8Weights'].flatMap((key) =>
        typeof manifest.multihead?.[key] === 'string' ? [manifest.multihead[key]] : [],
      );
      dropFiles(dir, manifest, [...files, ...multihead]);
      manifest.tasks = manifest.tasks.filter((task) => task.name === 'spam');
      delete manifest.multihead;
    });
    const run = await runCli(['compare', bundle, spamOnly]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^only in old \(not compared\): sentiment, topic$/m);
    expect(run.stdout).toMatch(/^spam FP32: agreement 100\.00% \(60\/60/m);
    expect(run.stdout).toMatch(/^spam INT8: agreement 100\.00%/m);
    const junkOnly = editedCopy(
      'junk-only',
      (_dir, manifest) => {
        manifest.tasks[0]!.name = 'junk';
      },
      spamOnly,
    );
    expectRefused(
      await runCli(['compare', bundle, junkOnly]),
      /^error: .*junk-only: the bundles have no task in common: old has sentiment, topic, spam, new has junk$/,
    );
  });

  it('bad input is exit 2 with one line, before any graph runs', async () => {
    const altered = join(root, 'altered');
    cpSync(bundle, altered, { recursive: true });
    writeFileSync(join(altered, 'topic_config.json'), `${readFileSync(join(altered, 'topic_config.json'), 'utf8')} `);
    expectRefused(
      await runCli(['compare', bundle, altered]),
      /^error: .*altered: the bundle does not match its manifest: topic_config.json has \d+ bytes/,
    );
    expectRefused(
      await runCli(['compare', bundle, root]),
      /^error: .*rfe-compare-\w+: the new bundle is not a rapidfit-export bundle: it has no manifest.json$/,
    );
    expectRefused(await runCli(['compare', join(root, 'missing'), bundle]), /the old bundle directory does not exist$/);
    expectRefused(
      await runCli(['compare', bundle]),
      /^error: compare needs two bundle directories \(the old release, then the new one\), got one$/,
    );
    const noInt8 = editedCopy('no-int8', (dir, manifest) => {
      const files = [...manifest.tasks, manifest.multihead!].flatMap((entry) =>
        ['int8', 'int8Weights'].flatMap((key) => (typeof entry[key] === 'string' ? [entry[key]] : [])),
      );
      dropFiles(dir, manifest, files);
      for (const entry of [...manifest.tasks, manifest.multihead!]) {
        delete entry.int8;
        delete entry.int8Weights;
      }
    });
    expectRefused(
      await runCli(['compare', bundle, noInt8, '--variant', 'int8']),
      /^error: .*no-int8: the new bundle has no INT8 graph for task "sentiment" \(asked with --variant int8\)$/,
    );
    // not asked for: compared where both have it, the rest said
    const defaults = await runCli(['compare', bundle, noInt8]);
    expect(defaults.exitCode, defaults.stderr).toBe(0);
    expect(defaults.stdout).toMatch(/^note: not compared: INT8: only one bundle has it for sentiment, topic, spam$/m);
    expect(defaults.stdout).not.toMatch(/INT8: agreement/);
    expectRefused(
      await runCli(['compare', bundle, bundle, '--tasks', 'nope']),
      /^error: --tasks: cannot compare task "nope": neither bundle has it \(common tasks: sentiment, topic, spam\)$/,
    );
    expectRefused(
      await runCli(['compare', bundle, bundle, '--min-agreement', '2']),
      /^error: --min-agreement: the agreement must be between 0 and 1$/,
    );
    expectRefused(
      await runCli(['compare', bundle, bundle, '--max-accuracy-drop', '0.01']),
      /^error: --max-accuracy-drop needs texts with gold labels/,
    );
  });

  it('different tokenizers are allowed and reported', async () => {
    const rewritten = editedCopy('tokenizer', (dir) => {
      const file = join(dir, 'tokenizer', 'tokenizer.json');
      const json = JSON.parse(readFileSync(file, 'utf8'));
      rmSync(file);
      writeFileSync(file, JSON.stringify(json, null, 1));
    });
    rechecksum(rewritten, 'tokenizer/tokenizer.json');
    const run = await runCli(['compare', bundle, rewritten]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^note: the tokenizers differ \(tokenizer\/tokenizer.json\): each release tokenizes the texts with its own$/m,
    );
  });

  it('compareBundles: the library API returns the comparison, or throws GateError / InputError', async () => {
    const result = await compareBundles(bundle, bundle, { variants: ['int8'], tasks: ['topic'] });
    expect(result.passed).toBe(true);
    expect(result.comparisons).toHaveLength(1);
    expect(result.comparisons[0]).toMatchObject({ task: 'topic', variant: 'int8', metrics: { agreement: 1 } });
    await expect(compareBundles(bundle, join(root, 'missing'))).rejects.toBeInstanceOf(InputError);
    await expect(compareBundles(bundle, bundle, { minAgreement: 1.5 })).rejects.toThrow(
      /minAgreement: the agreement must be between 0 and 1/,
    );
    const renamed = join(root, 'renamed-label');
    const failed = await compareBundles(bundle, renamed, { tasks: ['spam'], variants: ['fp32'] }).catch(
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(GateError);
    expect((failed as GateError).exitCode).toBe(3);
    expect(((failed as GateError).payload as { passed: boolean }).passed).toBe(false);
  });
});
