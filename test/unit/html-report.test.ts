import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { flip, sampleReport } from '../helpers/parity-report-sample.js';

const ids = (html: string): string[] => [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]!);

describe('parity-report.html', () => {
  const report = sampleReport();
  const html = renderHtml(report);

  it('is the same bytes for the same report, apart from the timestamp', () => {
    expect(renderHtml(sampleReport())).toBe(html);
    const later = renderHtml({ ...sampleReport(), createdAt: '2027-09-09T09:09:09.999Z' });
    expect(later).not.toBe(html);
    expect(later.replaceAll('2027-09-09T09:09:09.999Z', report.createdAt)).toBe(html);
  });

  it('is self-contained: no URL, no external reference, no script', () => {
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/\s(src|href|srcset|xlink:href)=/i);
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import/i);
    for (const [, target] of html.matchAll(/url\(([^)]*)\)/g)) expect(target).toMatch(/^#[\w-]+$/);
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toMatch(/<style>[\s\S]*@media print \{[\s\S]*<\/style>/);
  });

  it('has real tables with captions and header cells, and text alternatives for every chart', () => {
    const tables = html.match(/<table\b[\s\S]*?<\/table>/g) ?? [];
    expect(tables.map((t) => /id="(\w+)"/.exec(t)![1])).toEqual(['summary', 'worst', 'gates', 'comparisons']);
    for (const table of tables) {
      expect(table).toMatch(/<caption>[^<]+<\/caption>/);
      expect(table).toMatch(/<thead><tr>(<th scope="col">[^<]+<\/th>)+<\/tr><\/thead>/);
      expect(table).toMatch(/<th scope="row">/);
    }
    const charts = html.match(/<svg\b[^>]*>/g) ?? [];
    expect(charts.length).toBe(6); // 2 margin histograms, error, size, trials, kept (no speed points, no latency)
    for (const svg of charts) {
      const [, title, desc] = /aria-labelledby="([\w-]+) ([\w-]+)"/.exec(svg)!;
      expect(svg).toMatch(/role="img"/);
      expect(html).toMatch(new RegExp(`<title id="${title}">[^<]+</title><desc id="${desc}">[^<]+</desc>`));
    }
    expect(new Set(ids(html)).size).toBe(ids(html).length);
  });

  it('shows the verdict as words and a mark, not by colour alone', () => {
    expect(html).toMatch(
      /<section id="verdict" class="banner pass" aria-label="verdict">\n<p class="verdict"><span aria-hidden="true">✓<\/span> PASS<\/p>/,
    );
    expect(html).toMatch(/8 of 8 gates hold: FP32 on 200 texts, INT8 on 200 judged texts\./);
    const verdicts = [...html.matchAll(/<td class="verdict (pass|fail)">([^<]+)<\/td>/g)].map((m) => [m[1], m[2]]);
    expect(verdicts.length).toBe(4 + 8);
    expect(verdicts.every(([kind, text]) => kind === 'pass' && text === '✓ PASS')).toBe(true);
  });

  it('reads the agreement and its interval from the report, per task and variant', () => {
    const row = /<tr data-task="spam" data-comparison="int8">(.*?)<\/tr>/.exec(html)![1]!;
    expect(row).toMatch(
      /<th scope="row">spam<\/th><td>INT8<\/td><td class="agreement">100\.00%<\/td><td class="interval">97\.00–100\.00%<\/td>/,
    );
    expect(html).not.toMatch(/data-comparison="int8-calibration"[^>]*>[^\n]*class="agreement"/);
  });

  it('marks flips in the margin histogram and lists them first among the worst examples, escaped', () => {
    const flipped = sampleReport({
      spamInt8: {
        top1Agreement: 0.995,
        flips: [flip(42, '<script>alert("x")</script> & win')],
        marginHistogram: { edges: [0, 0.25, 0.5, 0.75, 1], texts: [10, 20, 30, 140], flips: [1, 0, 0, 0] },
      },
    });
    const page = renderHtml(flipped, { labels: { spam: { '0': 'ham', '1': 'spam' } } });
    expect(page).not.toMatch(/<script/);
    expect(page).toMatch(
      /<td class="text">&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; win<\/td><td>1 spam<\/td><td class="fail">0 ham \(flip\)<\/td><td>0\.020<\/td><td>0\.010<\/td>/,
    );
    const spamChart = /<figure id="figure-margin-1">[\s\S]*?<\/figure>/.exec(page)![0];
    expect(spamChart).toMatch(
      /200 texts by PyTorch&apos;s top-2 softmax margin; 1 of them change top-1 under INT8 \(hatched\)/,
    );
    expect(spamChart).toMatch(/class="rfe-bar-marked"/);
  });

  it('a failed gate: FAIL banner naming the gate, FAIL cells', () => {
    const page = renderHtml(sampleReport({ spamInt8: { top1Agreement: 0.95 } }));
    expect(page).toMatch(/class="banner fail"[\s\S]*<p class="verdict"><span aria-hidden="true">✗<\/span> FAIL<\/p>/);
    expect(page).toMatch(/<li>task &quot;spam&quot;: int8 top1Agreement = 0\.9500, limit &gt;= 0\.9900<\/li>/);
    expect(page).toMatch(
      /<tr data-task="spam" data-comparison="int8" data-metric="top1Agreement">.*<td class="verdict fail">✗ FAIL<\/td>/,
    );
  });

  it('leaves out the charts an old report has no data for, without failing', () => {
    const old = sampleReport();
    delete old.int8;
    for (const task of old.tasks) {
      delete task.sizes;
      for (const metrics of Object.values(task.comparisons)) delete metrics.marginHistogram;
    }
    const page = renderHtml(old);
    expect(page.match(/<svg\b/g)).toHaveLength(1); // the logit error chart needs only the diffs
    expect(page).toMatch(/id="figure-logit-error"/);
    expect(page).not.toMatch(/figure-(margin|sizes|speed|trials|kept)/);
  });
});
