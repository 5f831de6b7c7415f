import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, validationPath } from '../../fixtures/models.mjs';
import { parityReportSchema, type ParityReport } from '../../src/config/report.js';
import { comparisonVariant } from '../../src/plan/variants.js';
import { decodePng, loadPage, pixelStats, type PageLoad } from '../helpers/chromium.js';
import { runCli, scratchDir } from '../helpers/cli.js';

/** What the test reads back from the page's DOM (text as rendered, not the source). */
interface PageFacts {
  verdict: string;
  banner: string;
  summary: Array<{ task: string; comparison: string; agreement: string; interval: string; verdict: string }>;
  gates: Array<{ task: string; comparison: string; metric: string; verdict: string }>;
  charts: Array<{ label: string; title: string; desc: string }>;
}

const READ_PAGE = `(() => {
  const text = (el) => (el ? (el.innerText ?? el.textContent).trim() : '');
  const rows = (id) => [...document.querySelectorAll('#' + id + ' tbody tr')];
  return {
    verdict: text(document.querySelector('#verdict .verdict')),
    banner: text(document.querySelector('#verdict')),
    summary: rows('summary').map((tr) => ({
      task: tr.dataset.task, comparison: tr.dataset.comparison,
      agreement: text(tr.querySelector('.agreement')), interval: text(tr.querySelector('.interval')),
      verdict: text(tr.querySelector('.verdict')),
    })),
    gates: rows('gates').map((tr) => ({
      task: text(tr.querySelector('th')), comparison: tr.dataset.comparison, metric: tr.dataset.metric,
      verdict: text(tr.querySelector('.verdict')),
    })),
    charts: [...document.querySelectorAll('svg')].map((svg) => ({
      label: svg.getAttribute('aria-labelledby') || '',
      title: text(svg.querySelector('title')), desc: text(svg.querySelector('desc')),
    })),
  };
})()`;

const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const readReport = (dir: string): ParityReport =>
  parityReportSchema.parse(JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8')));

function expectListed(dir: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const entry = manifest.files.find((f: { path: string }) => f.path === 'parity-report.html');
  expect(entry, 'parity-report.html in manifest.json').toBeDefined();
  expect(entry.sha256).toBe(sha256(join(dir, 'parity-report.html')));
}

/** The page loaded from the file system: no console error, no request but itself, a screenshot that is not blank. */
function expectCleanLoad(page: PageLoad<PageFacts>, file: string): void {
  expect(page.errors).toEqual([]);
  expect(page.requests).toEqual([`file://${file}`]);
  const png = decodePng(page.screenshot);
  const stats = pixelStats(png);
  expect(png.width).toBeGreaterThanOrEqual(1000);
  expect(png.height).toBeGreaterThan(1500);
  expect(stats.colours).toBeGreaterThan(50);
  expect(stats.inked).toBeGreaterThan(0.03);
}

describe('parity-report.html in a real browser (chromium-headless-shell)', () => {
  const root = scratchDir('rfe-html-');
  const bundle = join(root, 'demo');
  let report: ParityReport;
  let page: PageLoad<PageFacts>;

  beforeAll(async () => {
    const run = await runCli([
      fixturePath('minilm-3task'),
      '-o',
      bundle,
      '--samples',
      validationPath('minilm-3task'),
      '--no-progress',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    report = readReport(bundle);
    page = await loadPage<PageFacts>(join(bundle, 'parity-report.html'), READ_PAGE);
  });

  it('is in the bundle, listed in manifest.json with its checksum', () => {
    expectListed(bundle);
  });

  it('loads offline: no console errors, no network requests, a screenshot that is not blank', () => {
    expectCleanLoad(page, join(bundle, 'parity-report.html'));
  });

  it("shows every task, every gate's verdict and the report's agreement numbers", () => {
    expect(page.value.verdict).toMatch(/PASS$/);
    const headline = report.tasks.flatMap((task) =>
      Object.entries(task.comparisons)
        .filter(([key]) => comparisonVariant(key) && !/^multihead-|-(calibration|embedded)$/.test(key))
        .map(([comparison, m]) => ({
          task: task.task,
          comparison,
          agreement: percent(m.top1Agreement),
          interval: `${(m.top1Interval![0] * 100).toFixed(2)}–${percent(m.top1Interval![1])}`,
          verdict: task.gates.filter((g) => g.comparison === comparison).every((g) => g.passed) ? '✓ PASS' : '✗ FAIL',
        })),
    );
    expect(headline.map((row) => row.task)).toEqual(['sentiment', 'sentiment', 'topic', 'topic', 'spam', 'spam']);
    expect(page.value.summary).toEqual(headline);
    const gates = report.tasks.flatMap((task) =>
      task.gates.map((g) => ({
        task: task.task,
        comparison: g.comparison,
        metric: g.metric,
        verdict: g.passed ? '✓ PASS' : '✗ FAIL',
      })),
    );
    expect(gates).toHaveLength(12);
    expect(page.value.gates).toEqual(gates);
    expect(page.value.banner).toContain(`${gates.length} of ${gates.length} gates hold`);
  });

  it('draws the charts with text alternatives: margins per task, error, size, speed, trials, kept MatMuls', () => {
    const titles = page.value.charts.map((chart) => chart.title);
    expect(titles.slice(0, 3)).toEqual(report.tasks.map((t) => `${t.task}: PyTorch top-2 margin, INT8 flips marked`));
    expect(titles).toContain('Absolute logit difference from PyTorch, per task and variant');
    expect(titles).toContain('Graph size per variant');
    expect(titles).toContain('INT8 search trials: agreement against MatMuls kept at higher precision');
    for (const chart of page.value.charts) {
      expect(chart.label).toMatch(/^[\w-]+-title [\w-]+-desc$/);
      expect(chart.desc.length).toBeGreaterThan(20);
    }
    const judged = report.tasks[0]!.comparisons.int8!.marginHistogram!.texts.reduce((a, b) => a + b, 0);
    expect(page.value.charts[0]!.desc).toMatch(new RegExp(`^${judged} texts by PyTorch's top-2 softmax margin`));
  });

  it('`report` re-renders the same bytes from the JSON, writes outside the bundle only, refuses a bad bundle', async () => {
    const md = join(root, 'again', 'report.md');
    const html = join(root, 'again', 'report.html');
    const run = await runCli(['report', bundle, '--md', md, '--html', html]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readFileSync(md, 'utf8')).toBe(readFileSync(join(bundle, 'parity-report.md'), 'utf8'));
    expect(readFileSync(html, 'utf8')).toBe(readFileSync(join(bundle, 'parity-report.html'), 'utf8'));
    const printed = await runCli(['report', bundle]);
    expect(`${printed.stdout}\n`).toBe(readFileSync(join(bundle, 'parity-report.md'), 'utf8')); // execa strips the last newline

    const inside = await runCli(['report', bundle, '--html', join(bundle, 'again.html')]);
    expect(inside.exitCode).toBe(2);
    expect(inside.stderr).toMatch(/^error: .*again\.html: is inside the bundle/);
    const missing = await runCli(['report', join(root, 'nope')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim()).toBe(`error: ${join(root, 'nope')}: the bundle directory does not exist`);
    const notBundle = await runCli(['report', root]);
    expect(notBundle.exitCode).toBe(2);
    expect(notBundle.stderr.trim()).toBe(`error: ${root}: has no parity-report.json: not a rapidfit-export bundle`);
  });

  it('`report` reads a bundle from before intervals, histograms, sizes, splits and INT8 details', async () => {
    const old = join(root, 'old');
    mkdirSync(old);
    type Loose = Record<string, unknown>;
    type OldReport = Loose & { samples: Loose; tasks: Array<Loose & { comparisons: Record<string, Loose> }> };
    const raw = JSON.parse(readFileSync(join(bundle, 'parity-report.json'), 'utf8')) as OldReport;
    delete raw.int8;
    delete raw.timings;
    delete raw.samples.splits;
    delete raw.samples.origin;
    for (const task of raw.tasks) {
      delete task.sizes;
      delete task.int8SizeShare;
      for (const m of Object.values(task.comparisons))
        for (const key of [
          'top1Interval',
          'top1Agreed',
          'marginHistogram',
          'flips',
          'measuredOn',
          'accuracy',
          'labelled',
        ])
          delete m[key];
    }
    writeFileSync(join(old, 'parity-report.json'), JSON.stringify(raw));
    copyFileSync(join(bundle, 'verification.json'), join(old, 'verification.json'));
    const html = join(root, 'old.html');
    const run = await runCli(['report', old, '--html', html]);
    expect(run.exitCode, run.stderr).toBe(0);
    const markdown = (await runCli(['report', old])).stdout;
    expect(markdown).toMatch(/^# Parity report: PASSED\n/);
    expect(markdown).not.toMatch(/<summary>INT8|\(95% interval\) \| max abs diff \| mean abs diff \| size/);
    // the split counts come from verification.json
    const splits = report.samples.splits!;
    expect(markdown).toMatch(
      new RegExp(
        `Texts: ${splits.calibration} calibration texts chose the INT8 graph; ${splits.judged} embedded texts judged it`,
      ),
    );
    const oldPage = await loadPage<PageFacts>(html, READ_PAGE);
    expect(oldPage.errors).toEqual([]);
    expect(oldPage.value.summary.map((row) => row.interval)).toEqual(Array(6).fill('-'));
  });
});

describe('a failing bundle (exit 3): its .unverified HTML report says FAIL and names the gate', () => {
  it('banner, gate rows, manifest entry', async () => {
    const out = join(scratchDir('rfe-html-fail-'), 'bundle');
    const args = ['--samples-limit', '20', '--quantize', 'none', '--fp32-tolerance', '1e-15', '--no-progress'];
    const run = await runCli([fixturePath('tiny-max-tanh'), '-o', out, ...args]);
    expect(run.exitCode, run.stderr).toBe(3);
    const unverified = `${out}.unverified`;
    expectListed(unverified);
    const file = join(unverified, 'parity-report.html');
    const page = await loadPage<PageFacts>(file, READ_PAGE);
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([`file://${file}`]);
    expect(page.value.verdict).toMatch(/FAIL$/);
    expect(page.value.banner).toMatch(/task "language": fp32 maxAbsDiff = [0-9.e-]+, limit <= 1\.00e-15/);
    const failing = page.value.gates.filter((g) => g.verdict === '✗ FAIL');
    expect(failing).toContainEqual({ task: 'language', comparison: 'fp32', metric: 'maxAbsDiff', verdict: '✗ FAIL' });
    const report = readReport(unverified);
    expect(failing).toHaveLength(report.tasks.flatMap((t) => t.gates).filter((g) => !g.passed).length);
    expect(readFileSync(join(unverified, 'parity-report.md'), 'utf8')).toMatch(
      /^# Parity report: FAILED\n\n\*\*FAIL\*\*/,
    );
  });
});
