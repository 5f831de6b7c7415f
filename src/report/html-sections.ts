import type { ParityReport } from '../config/report.js';
import { comparisonTitle } from '../plan/variants.js';
import { describeFailure, formatNumber } from '../verify/gates.js';
import {
  allGates,
  describeGateValue,
  failedGates,
  gateText,
  intervalText,
  labelName,
  mib,
  percent,
  summaryRows,
  variantSpeed,
  variantTitle,
  verdictLine,
  type RenderContext,
} from './facts.js';
import { escapeXml as esc } from './svg.js';
import { worstSections } from './worst.js';

type Cell = string | { text: string; className?: string; header?: boolean };

/** A data cell, or a row header (`th scope="row"`) when `header`. */
function cell(value: Cell): string {
  if (typeof value === 'string') return `<td>${esc(value)}</td>`;
  const cls = value.className ? ` class="${value.className}"` : '';
  return value.header ? `<th scope="row"${cls}>${esc(value.text)}</th>` : `<td${cls}>${esc(value.text)}</td>`;
}

function table(id: string, caption: string, headers: string[], rows: Array<{ attrs: string; cells: Cell[] }>): string {
  const head = headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((row) => `<tr${row.attrs}>${row.cells.map(cell).join('')}</tr>`).join('\n');
  return `<table id="${id}"><caption>${esc(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

const attr = (values: Record<string, string>): string =>
  Object.entries(values)
    .map(([key, value]) => ` data-${key}="${esc(value)}"`)
    .join('');

const verdictCell = (passed: boolean): Cell => ({
  text: passed ? '✓ PASS' : '✗ FAIL',
  className: passed ? 'verdict pass' : 'verdict fail',
});

export function banner(report: ParityReport): string {
  const failing = failedGates(report);
  const word = report.passed ? 'PASS' : 'FAIL';
  const list =
    failing.length === 0
      ? ''
      : `<ul class="failures">${failing.map((g) => `<li>${esc(describeFailure(g.task, g.gate))}</li>`).join('')}</ul>`;
  const warnings = (report.samples.warnings ?? []).map(
    (w) => `<p class="warning"><strong>Warning:</strong> ${esc(w)}.</p>`,
  );
  return `<section id="verdict" class="banner ${word.toLowerCase()}" aria-label="verdict">
<p class="verdict"><span aria-hidden="true">${report.passed ? '✓' : '✗'}</span> ${word}</p>
<p class="verdict-line">${esc(verdictLine(report))}.</p>${list}${warnings.join('')}
</section>`;
}

export function summaryTable(report: ParityReport): string {
  const rows = summaryRows(report).map((row) => {
    const m = row.metrics;
    const speed = variantSpeed(
      report,
      report.tasks.find((t) => t.task === row.task)!,
      row.variant,
    );
    return {
      attrs: attr({ task: row.task, comparison: row.comparison }),
      cells: [
        { text: row.task, header: true },
        variantTitle(row.variant),
        { text: percent(m.top1Agreement), className: 'agreement' },
        { text: intervalText(m.top1Interval) || '-', className: 'interval' },
        formatNumber(m.maxAbsDiff),
        formatNumber(m.meanAbsDiff),
        m.accuracy === undefined ? '-' : `${percent(m.accuracy)} of ${m.labelled}`,
        row.size === undefined
          ? '-'
          : `${mib(row.size)}${row.sizeShare !== undefined && row.variant !== 'fp32' ? ` (${percent(row.sizeShare, 0)})` : ''}`,
        speed ? `${speed.value.toFixed(2)}x` : '-',
        verdictCell(row.gates.every((g) => g.passed)),
      ],
    };
  });
  const headers = [
    'task',
    'variant',
    'top-1 agreement',
    '95% interval',
    'max abs diff',
    'mean abs diff',
    'accuracy (gold)',
    'size',
    'speed-up',
    'gates',
  ];
  const speed = report.tasks
    .map((t) => variantSpeed(report, t, 'int8') ?? variantSpeed(report, t, 'fp16'))
    .find(Boolean);
  const caption = `Per task and variant, on the judged texts${speed ? `; speed-up over FP32 at ${speed.where}` : ''}`;
  return table('summary', caption, headers, rows);
}

export function gatesTable(report: ParityReport): string {
  const rows = allGates(report).map(({ task, gate }) => ({
    attrs: attr({ task, comparison: gate.comparison, metric: gate.metric }),
    cells: [
      { text: task, header: true },
      comparisonTitle(gate.comparison),
      gateText(gate).replace(/^(pass|FAIL) /, ''),
      describeGateValue(gate),
      verdictCell(gate.passed),
    ],
  }));
  return table('gates', 'Every gate', ['task', 'comparison', 'gate', 'value', 'verdict'], rows);
}

export function worstTable(report: ParityReport, context: RenderContext): string {
  const sections = worstSections(report);
  const quiet = sections.filter((s) => s.quiet).map((s) => `<p>${esc(s.quiet!)}</p>`);
  const rows = sections.flatMap((s) =>
    s.examples.map((e) => ({
      attrs: attr({ task: s.task, comparison: s.comparison }),
      cells: [
        { text: s.task, header: true },
        comparisonTitle(s.comparison),
        { text: e.text, className: 'text' },
        labelName(context, s.task, e.reference),
        {
          text: `${labelName(context, s.task, e.candidate)}${e.reference === e.candidate ? '' : ' (flip)'}`,
          className: e.reference === e.candidate ? '' : 'fail',
        },
        e.referenceMargin === undefined ? '-' : e.referenceMargin.toFixed(3),
        e.candidateMargin === undefined ? '-' : e.candidateMargin.toFixed(3),
        formatNumber(e.maxAbsDiff),
      ],
    })),
  );
  const headers = [
    'task',
    'comparison',
    'text',
    'PyTorch top-1',
    'ONNX top-1',
    'PyTorch margin',
    'ONNX margin',
    'max abs diff',
  ];
  const worst =
    rows.length > 0 ? table('worst', 'Flipped texts first, then the largest logit differences', headers, rows) : '';
  return [...quiet, worst].join('\n');
}

export function comparisonsTable(report: ParityReport): string {
  const rows = report.tasks.flatMap((task) =>
    Object.entries(task.comparisons).map(([comparison, m]) => ({
      attrs: attr({ task: task.task, comparison }),
      cells: [
        { text: task.task, header: true },
        comparisonTitle(comparison),
        String(m.samples),
        percent(m.top1Agreement),
        formatNumber(m.maxAbsDiff),
        formatNumber(m.meanAbsDiff),
        m.minCosine.toFixed(6),
        formatNumber(m.maxSoftmaxDiff),
        String(m.nonFinite),
      ],
    })),
  );
  const headers = [
    'task',
    'comparison',
    'texts',
    'top-1 agreement',
    'max abs diff',
    'mean abs diff',
    'min cosine',
    'max softmax diff',
    'NaN/Inf',
  ];
  return table(
    'comparisons',
    'Every split and graph (calibration rows were tuned on and are not gated)',
    headers,
    rows,
  );
}
