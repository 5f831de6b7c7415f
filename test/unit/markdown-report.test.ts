import { describe, expect, it } from 'vitest';
import type { ParityReport } from '../../src/config/report.js';
import { renderMarkdown, renderSummaryMarkdown } from '../../src/report/markdown.js';
import { flip, sampleReport } from '../helpers/parity-report-sample.js';

/** Every Markdown table as its lines (header, separator, rows). */
function tables(markdown: string): string[][] {
  const found: string[][] = [];
  let current: string[] = [];
  for (const line of [...markdown.split('\n'), '']) {
    if (line.startsWith('|')) current.push(line);
    else if (current.length > 0) {
      found.push(current);
      current = [];
    }
  }
  return found;
}

const cells = (row: string): string[] =>
  row
    .slice(1, -1)
    .split(' | ')
    .map((cell) => cell.trim());

function expectNoEmptyTables(markdown: string): void {
  for (const table of tables(markdown)) {
    expect(table.length, table.join('\n')).toBeGreaterThanOrEqual(3);
    expect(table[1]).toMatch(/^\|(-+:?\|)+$|^\|(---:?\|)+$/);
    const width = cells(table[0]!).length;
    for (const row of table.slice(2)) expect(cells(row), row).toHaveLength(width);
  }
}

describe('parity-report.md', () => {
  const report = sampleReport();
  const markdown = renderMarkdown(report);
  const lines = markdown.split('\n');

  it('opens with the verdict and the summary table, before any details block', () => {
    expect(lines[0]).toBe('# Parity report: PASSED');
    expect(lines[2]).toMatch(/^\*\*PASS\*\*: 8 of 8 gates hold: FP32 on 200 texts, INT8 on 200 judged texts\./);
    const summaryAt = lines.findIndex((line) => line.startsWith('| task | variant | top-1 agreement (95% interval)'));
    const detailsAt = lines.indexOf('<details>');
    expect(summaryAt).toBe(4);
    expect(detailsAt).toBeGreaterThan(summaryAt);
    // one row per task and gated variant: no calibration or multihead rows in the summary
    const summary = tables(markdown)[0]!;
    expect(summary.slice(2).map((row) => cells(row).slice(0, 2))).toEqual([
      ['sentiment', 'FP32 ONNX vs PyTorch'],
      ['sentiment', 'INT8 ONNX vs PyTorch'],
      ['spam', 'FP32 ONNX vs PyTorch'],
      ['spam', 'INT8 ONNX vs PyTorch'],
    ]);
    expect(cells(summary[3]!)).toEqual([
      'sentiment',
      'INT8 ONNX vs PyTorch',
      '100.00% (97.00–100.00%)',
      '0.0120',
      '0.0030',
      '96.00% of 50',
      '25.4 MiB (29%)',
      '1.40x',
      'pass top1Agreement >= 0.9900',
    ]);
  });

  it('fits on a screen: the part above the details is short', () => {
    expect(lines.indexOf('<details>')).toBeLessThan(30);
    expect(renderSummaryMarkdown(report).split('\n').length).toBeLessThan(30);
    expect(markdown.startsWith(renderSummaryMarkdown(report).trimEnd())).toBe(true);
  });

  it('puts the rest in balanced details blocks that GitHub renders (blank line after the summary)', () => {
    const opened = lines.flatMap((line, i) => (line === '<details>' ? [i] : []));
    expect(opened.length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((line) => line === '</details>')).toHaveLength(opened.length);
    for (const at of opened) {
      expect(lines[at + 1]).toMatch(/^<summary>.+<\/summary>$/);
      expect(lines[at + 2]).toBe('');
    }
    // every comparison, calibration and multihead rows included, is under "All comparisons"
    const all = markdown.slice(markdown.indexOf('<summary>All comparisons'));
    expect(all).toMatch(/\| spam \| INT8 ONNX vs PyTorch, calibration split \(tuned on, not gated\) \|/);
    expect(all).toMatch(/\| spam \| multihead_int8\.onnx vs PyTorch \|.*\| pass top1Agreement >= 0\.9900 \|/);
  });

  it('has no empty tables, and no latency table when latency was not measured', () => {
    expectNoEmptyTables(markdown);
    expect(markdown).not.toMatch(/FP32 ms/);
    const timed = renderMarkdown(sampleReport({ latency: true }));
    expectNoEmptyTables(timed);
    expect(timed).toMatch(/\| sentiment \| 1 \| 128 \| 20\.0 \| 10\.0 \| 2\.00x \|/);
  });

  it('counts the kept MatMuls by kind and layer instead of listing them', () => {
    expect(markdown).not.toMatch(/\/encoder\/|Gemm_MatMul/);
    expect(markdown).toMatch(
      /by kind and layer \(3 weight-only-10, 3 weight-only-12; node names in parity-report\.json\)/,
    );
    const kept = tables(markdown).find((table) => table[0]!.startsWith('| kind |'))!;
    expect(kept.map(cells)).toEqual([
      ['kind', 'layer 0', 'layer 1', 'heads'],
      ['---|---:|---:|---:'],
      ['query', '1', '1', '·'],
      ['attention out', '·', '1', '·'],
      ['FFN in', '·', '1', '·'],
      ['FFN out', '·', '1', '·'],
      ['task head', '·', '·', '1'],
    ]);
  });

  it('lists no FP32 worst examples when every diff is far under the gate: one line says so', () => {
    expect(markdown).toMatch(
      /FP32 ONNX vs PyTorch: no examples listed; every diff on 2 tasks is at most 2\.00e-6, 50x under the 1\.00e-4 gate/,
    );
    expect(markdown).not.toMatch(/\*\*sentiment, FP32 ONNX vs PyTorch\*\*/);
    const close = renderMarkdown(sampleReport({ fp32: { maxAbsDiff: 5e-5 } }));
    expect(close).toMatch(/\*\*sentiment, FP32 ONNX vs PyTorch\*\*/);
    expect(close).not.toMatch(/no examples listed/);
  });

  it('shows flipped texts first, with both labels and both margins', () => {
    const flipped = sampleReport({
      spamInt8: { top1Agreement: 0.995, flips: [flip(42, 'WIN a | prize now')] },
    });
    const text = renderMarkdown(flipped, { labels: { spam: { '0': 'ham', '1': 'spam' } } });
    expect(text).toMatch(/<summary>Worst examples \(1 flipped text shown\)<\/summary>/);
    const rows = tables(text).find((table) => table[0]!.includes('PyTorch margin') && table.join('').includes('42'))!;
    expect(rows[2]).toBe('| 42 | "WIN a \\| prize now" | 1 spam | 0 ham (flip) | 0.020 | 0.010 | 0.0400 |');
    expectNoEmptyTables(text);
  });

  it('keeps the own-data warnings and says which texts were calibration, judged and embedded', () => {
    const warned = renderMarkdown(sampleReport({ warnings: ['the INT8 choice rests on generic texts'] }));
    expect(warned).toMatch(/^> \*\*Warning:\*\* the INT8 choice rests on generic texts\.$/m);
    expect(warned.indexOf('**Warning:**')).toBeLessThan(warned.indexOf('<details>'));
    expect(warned).toMatch(
      /^Texts: 200 calibration texts chose the INT8 graph; 200 of your texts judged it; 200 embedded texts checked FP32 parity/m,
    );
  });

  it('a failed gate: FAILED, marked in the summary and named in a list under it', () => {
    const failed = sampleReport({ spamInt8: { top1Agreement: 0.95 } });
    const text = renderSummaryMarkdown(failed);
    expect(text).toMatch(/^# Parity report: FAILED\n\n\*\*FAIL\*\*: 6 of 8 gates hold/);
    expect(text).toMatch(/\| spam \| INT8 ONNX vs PyTorch \|.*\| \*\*FAIL\*\* top1Agreement >= 0\.9900 \|/);
    expect(text).toMatch(/^- task "spam": int8 top1Agreement = 0\.9500, limit >= 0\.9900$/m);
    expect(text).toMatch(/^- task "spam": multihead-int8 top1Agreement = 0\.9500, limit >= 0\.9900$/m);
  });

  it('renders a report from before intervals, sizes, splits and INT8 details existed, leaving those out', () => {
    const old: ParityReport = sampleReport();
    delete old.int8;
    delete old.samples.splits;
    for (const task of old.tasks) {
      delete task.sizes;
      delete task.int8SizeShare;
      for (const metrics of Object.values(task.comparisons)) {
        delete metrics.top1Interval;
        delete metrics.marginHistogram;
        delete metrics.flips;
        delete metrics.accuracy;
      }
    }
    const text = renderMarkdown(old);
    expectNoEmptyTables(text);
    expect(tables(text)[0]![0]).toBe(
      '| task | variant | top-1 agreement (95% interval) | max abs diff | mean abs diff | gates |',
    );
    expect(text).not.toMatch(/<summary>INT8|Texts:|speed-up/);
  });
});
