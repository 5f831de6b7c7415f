import type { ParityReport } from '../config/report.js';
import { comparisonTitle } from '../plan/variants.js';
import { describeFailure, formatNumber } from '../verify/gates.js';
import {
  allGates,
  failedGates,
  gateText,
  intervalText,
  mib,
  percent,
  summaryRows,
  variantSpeed,
  verdictLine,
  type RenderContext,
  type SummaryRow,
} from './facts.js';
import { comparisonsDetails, fp16Details, int8Details, worstDetails } from './markdown-details.js';

function agreementCell(row: SummaryRow): string {
  const m = row.metrics;
  const interval = intervalText(m.top1Interval);
  return `${percent(m.top1Agreement)}${interval ? ` (${interval})` : ''}`;
}

function accuracyCell(row: SummaryRow): string {
  const { accuracy, labelled } = row.metrics;
  return accuracy === undefined ? '-' : `${percent(accuracy)} of ${labelled}`;
}

function sizeCell(row: SummaryRow): string {
  if (row.size === undefined) return '-';
  return row.variant === 'fp32' || row.sizeShare === undefined
    ? mib(row.size)
    : `${mib(row.size)} (${percent(row.sizeShare, 0)})`;
}

/** The headline table: one row per task and variant on its judged texts; columns without a value anywhere are left out. */
function summaryTable(report: ParityReport): string[] {
  const rows = summaryRows(report);
  if (rows.length === 0) return [];
  const columns: Array<[string, string, (row: SummaryRow) => string]> = [
    ['top-1 agreement (95% interval)', '---:', agreementCell],
    ['max abs diff', '---:', (row) => formatNumber(row.metrics.maxAbsDiff)],
    ['mean abs diff', '---:', (row) => formatNumber(row.metrics.meanAbsDiff)],
  ];
  if (rows.some((row) => row.metrics.accuracy !== undefined)) columns.push(['accuracy (gold)', '---:', accuracyCell]);
  if (rows.some((row) => row.size !== undefined)) columns.push(['size', '---:', sizeCell]);
  if (rows.some((row) => row.speedup !== undefined))
    columns.push(['speed-up', '---:', (row) => (row.speedup === undefined ? '-' : `${row.speedup.toFixed(2)}x`)]);
  const gates = (row: SummaryRow): string => row.gates.map((gate) => gateText(gate, '**FAIL**')).join('; ') || '-';
  return [
    `| task | variant | ${columns.map(([title]) => title).join(' | ')} | gates |`,
    `|---|---|${columns.map(([, align]) => align).join('|')}|---|`,
    ...rows.map(
      (row) =>
        `| ${row.task} | ${comparisonTitle(row.comparison)} | ${columns.map(([, , cell]) => cell(row)).join(' | ')} | ${gates(row)} |`,
    ),
  ];
}

/** What is under the table: the multihead graph's verdict, where the speed was measured, the failed gates. */
function summaryNotes(report: ParityReport): string[] {
  const lines: string[] = [];
  const multihead = allGates(report).filter((g) => g.gate.comparison.startsWith('multihead-'));
  if (multihead.length > 0) {
    const held = multihead.filter((g) => g.gate.passed).length;
    lines.push(
      `\`multihead.onnx\` (one encoder pass, one \`<task>_logits\` output per task): ${held} of ${multihead.length} gates hold, output by output (rows under "All comparisons").`,
    );
  }
  const speed = report.tasks.map((task) => variantSpeed(report, task, 'int8') ?? variantSpeed(report, task, 'fp16'))[0];
  if (speed) lines.push('', `Speed-up over FP32 at ${speed.where}.`);
  const failing = failedGates(report);
  if (failing.length > 0) {
    lines.push('', '**Failed gates:**', '');
    for (const { task, gate } of failing) lines.push(`- ${describeFailure(task, gate)}`);
  }
  return lines;
}

/** Which texts did what, and the warnings about them. */
export function textsLines(report: ParityReport): string[] {
  const { splits, origin, warnings } = report.samples;
  const lines: string[] = [];
  for (const warning of warnings ?? []) lines.push(`> **Warning:** ${warning}.`, '');
  if (splits) {
    const parts = [
      splits.calibration > 0 ? `${splits.calibration} calibration texts chose the INT8 graph` : '',
      `${splits.judged} ${origin?.user ? 'of your' : 'embedded'} texts judged ${splits.calibration > 0 ? 'it' : 'every variant'}`,
      splits.embedded > 0
        ? `${splits.embedded} embedded texts checked FP32 parity and robustness (their INT8 rows are for information)`
        : '',
    ].filter(Boolean);
    const set = [
      origin?.movedToJudged ? `${origin.movedToJudged} calibration texts past the cap were judged instead` : '',
      origin?.leftOut ? `${origin.leftOut} texts past the cap were left out (seeded, stratified)` : '',
    ].filter(Boolean);
    lines.push(`Texts: ${parts.join('; ')}${set.length > 0 ? ` (${set.join('; ')})` : ''}.`, '');
  }
  return lines;
}

/**
 * The screen-sized summary: verdict, the per task and variant table, the failed gates and the warnings.
 * It heads parity-report.md and is what the GitHub step summary shows.
 */
export function renderSummaryMarkdown(report: ParityReport): string {
  const verdict = report.passed ? 'PASSED' : 'FAILED';
  const model = report.model.dir.split(/[\\/]/).filter(Boolean).pop() ?? report.model.dir;
  const lines = [
    `# Parity report: ${verdict}`,
    '',
    `**${report.passed ? 'PASS' : 'FAIL'}**: ${verdictLine(report)}. Model \`${model}\` (${report.model.format}), ${report.tool.name} ${report.tool.version}.`,
    '',
    ...summaryTable(report),
    '',
    ...summaryNotes(report),
    '',
    ...textsLines(report),
  ];
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** parity-report.md: the summary, then the details in collapsed `<details>` blocks (GitHub renders them). */
export function renderMarkdown(report: ParityReport, context: RenderContext = {}): string {
  const details = [
    ...comparisonsDetails(report),
    ...int8Details(report),
    ...fp16Details(report),
    ...worstDetails(report, context),
  ];
  const footer = `Model \`${report.model.dir}\`; ${report.samples.count} ${report.samples.source} samples, seed ${report.samples.seed}, max_length ${report.samples.maxLength}; ${report.createdAt}.`;
  const lines = [renderSummaryMarkdown(report).trimEnd(), '', ...details, '', footer];
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
