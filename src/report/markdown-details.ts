import type { ParityReport } from '../config/report.js';
import { comparisonTitle } from '../plan/variants.js';
import { formatNumber } from '../verify/gates.js';
import { gateText, labelName, mib, percent, type Metrics, type RenderContext } from './facts.js';
import { keptGrid, methodsText } from './kept-nodes.js';
import { measuredOnLines } from './measured-on.js';
import { worstSections } from './worst.js';

/** A collapsed block; the blank lines let GitHub render the Markdown inside it. */
function details(summary: string, body: string[]): string[] {
  return body.length === 0 ? [] : ['<details>', `<summary>${summary}</summary>`, '', ...body, '', '</details>', ''];
}

const COLUMNS: Array<[string, (m: Metrics) => string]> = [
  ['max abs diff', (m) => formatNumber(m.maxAbsDiff)],
  ['mean abs diff', (m) => formatNumber(m.meanAbsDiff)],
  ['min cosine', (m) => m.minCosine.toFixed(6)],
  ['max softmax diff', (m) => formatNumber(m.maxSoftmaxDiff)],
  ['top-1 agreement', (m) => percent(m.top1Agreement)],
  [
    'top-1 agreement, margin >= 0.1',
    (m) => (m.confidentAgreement === undefined ? '-' : `${percent(m.confidentAgreement)} of ${m.confidentSamples}`),
  ],
  ['NaN/Inf', (m) => String(m.nonFinite)],
  ['accuracy (gold)', (m) => (m.accuracy === undefined ? '-' : `${percent(m.accuracy)} of ${m.labelled}`)],
];

/** Every comparison (calibration and embedded splits, multihead outputs) with every metric and gate. */
export function comparisonsDetails(report: ParityReport): string[] {
  const rows = report.tasks.flatMap((task) =>
    Object.entries(task.comparisons).map(([comparison, metrics]) => {
      const gates = task.gates
        .filter((gate) => gate.comparison === comparison)
        .map((gate) => gateText(gate, '**FAIL**'));
      const cells = COLUMNS.map(([, cell]) => cell(metrics)).join(' | ');
      return `| ${task.task} | ${comparisonTitle(comparison)} | ${cells} | ${gates.join('; ') || '-'} |`;
    }),
  );
  if (rows.length === 0) return [];
  const table = [
    `| task | comparison | ${COLUMNS.map(([title]) => title).join(' | ')} | gates |`,
    `|---|---|${COLUMNS.map(() => '---:').join('|')}|---|`,
    ...rows,
  ];
  return details(`All comparisons (${rows.length} rows: every split and graph, every metric)`, [
    ...measuredOnLines(report),
    ...table,
  ]);
}

function trialsTable(calibration: NonNullable<NonNullable<ParityReport['int8']>['calibration']>): string[] {
  if (calibration.trials.length === 0) return [];
  return [
    '',
    '| trial | base | MatMuls at higher precision | calibration agreement | passed |',
    '|---:|---|---:|---|---|',
    ...calibration.trials.map(
      (t, i) =>
        `| ${i + 1} | ${t.base} | ${t.fallbackNodes} | ${Object.entries(t.agreement)
          .map(([task, v]) => `${task} ${percent(v)}`)
          .join(', ')} | ${t.passed ? 'yes' : t.stoppedEarly ? 'no (stopped early)' : 'no'} |`,
    ),
  ];
}

/** The kept MatMuls as counts, kinds by layer (the node names stay in parity-report.json). */
function keptTable(higherPrecision: Record<string, string>): string[] {
  const grid = keptGrid(higherPrecision);
  if (grid.total === 0) return [];
  const header = grid.layers.map((layer) => (/^\d+$/.test(layer) ? `layer ${layer}` : layer));
  return [
    '',
    `Kept at higher precision, by kind and layer (${methodsText(grid)}; node names in parity-report.json):`,
    '',
    `| kind | ${header.join(' | ')} |`,
    `|---|${grid.layers.map(() => '---:').join('|')}|`,
    ...grid.kinds.map(
      (kind, k) => `| ${kind} | ${grid.cells[k]!.map((c) => (c === 0 ? '·' : String(c))).join(' | ')} |`,
    ),
  ];
}

function latencyTable(report: ParityReport): string[] {
  const rows = report.tasks.flatMap((t) =>
    (t.latency ?? []).map(
      (l) =>
        `| ${t.task} | ${l.batch} | ${l.sequence} | ${l.fp32Ms.toFixed(1)} | ${l.int8Ms?.toFixed(1) ?? '-'} | ${l.int8Ms ? `${(l.fp32Ms / l.int8Ms).toFixed(2)}x` : '-'} |`,
    ),
  );
  if (rows.length === 0) return [];
  return ['', '| task | batch | tokens | FP32 ms | INT8 ms | speed-up |', '|---|---:|---:|---:|---:|---:|', ...rows];
}

export function int8Details(report: ParityReport): string[] {
  const int8 = report.int8;
  if (!int8) return latencyTable(report).length > 0 ? details('Latency', latencyTable(report)) : [];
  const kept = Object.keys(int8.higherPrecision).length;
  const lines = [
    `Mode \`${int8.mode}\`: ${kept > 0 ? `${kept} MatMuls kept at higher precision, any others` : 'MatMuls'} \`${int8.method}\`; the INT8 gate is judged on ${int8.judgedSamples} texts.`,
  ];
  const c = int8.calibration;
  if (c) {
    const agreement = Object.entries(c.agreement)
      .map(
        ([task, value]) =>
          `${task} ${percent(value)}${c.target[task] !== undefined ? ` (target ${percent(c.target[task], 1)})` : ''}`,
      )
      .join(', ');
    lines.push(
      '',
      `Chosen on a calibration split of ${c.samples} other texts (seed ${c.seed}), against ${c.against ?? 'FP32 ONNX'}: ${agreement}${c.speedupBatch1 ? `; ${c.speedupBatch1.toFixed(2)}x FP32 speed at batch 1` : ''}.`,
      ...trialsTable(c),
    );
  }
  lines.push(...keptTable(int8.higherPrecision));
  if (int8.note) lines.push('', `**Note:** ${int8.note}`);
  lines.push(...latencyTable(report));
  const sizes = report.tasks
    .filter((t) => t.int8SizeShare !== undefined)
    .map((t) => `${t.task} ${percent(t.int8SizeShare!, 1)}`);
  if (sizes.length > 0) lines.push('', `INT8 size, of FP32: ${sizes.join(', ')}.`);
  const chosen = kept > 0 ? `${kept} MatMuls kept at higher precision` : `every MatMul ${int8.method}`;
  return details(`INT8: mode ${int8.mode}, ${chosen}`, lines);
}

/** Size and latency of FP16 beside FP32's. */
export function fp16Details(report: ParityReport): string[] {
  const rows = report.tasks.filter((t) => t.sizes?.fp16 !== undefined && t.sizes.fp32 !== undefined);
  if (rows.length === 0) return [];
  const lines = [
    'Float16 weights and compute, float32 inputs and outputs (for GPU/WebGPU deploys; onnxruntime CPU runs it, rarely faster than FP32).',
    '',
    '| task | FP16 size | of FP32 | batch | tokens | FP32 ms | FP16 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of rows) {
    const size = `| ${t.task} | ${mib(t.sizes!.fp16!)} | ${percent(t.sizes!.fp16! / t.sizes!.fp32!, 1)} |`;
    const latency = (t.latency ?? []).filter((l) => l.fp16Ms !== undefined);
    if (latency.length === 0) lines.push(`${size} - | - | - | - |`);
    for (const l of latency)
      lines.push(`${size} ${l.batch} | ${l.sequence} | ${l.fp32Ms.toFixed(1)} | ${l.fp16Ms!.toFixed(1)} |`);
  }
  return details('FP16', lines);
}

export function worstDetails(report: ParityReport, context: RenderContext): string[] {
  const sections = worstSections(report);
  const lines: string[] = [];
  for (const section of sections) {
    if (section.quiet) {
      lines.push(section.quiet, '');
      continue;
    }
    lines.push(
      `**${section.task}, ${comparisonTitle(section.comparison)}**`,
      '',
      '| # | text | PyTorch top-1 | ONNX top-1 | PyTorch margin | ONNX margin | max abs diff |',
      '|---:|---|---|---|---:|---:|---:|',
      ...section.examples.map((e) => {
        const text = JSON.stringify(e.text.length > 80 ? `${e.text.slice(0, 77)}...` : e.text).replace(/\|/g, '\\|');
        const flip = e.reference === e.candidate ? '' : ' (flip)';
        return `| ${e.index} | ${text} | ${labelName(context, section.task, e.reference)} | ${labelName(context, section.task, e.candidate)}${flip} | ${margin(e.referenceMargin)} | ${margin(e.candidateMargin)} | ${formatNumber(e.maxAbsDiff)} |`;
      }),
      '',
    );
  }
  const flips = sections.reduce((sum, s) => sum + s.flips, 0);
  return details(`Worst examples (${flips} flipped text${flips === 1 ? '' : 's'} shown)`, lines);
}

const margin = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(3));
