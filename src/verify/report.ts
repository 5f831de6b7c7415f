import type { ParityReport } from '../config/report.js';
import { comparisonTitle } from '../plan/variants.js';
import { formatNumber } from './gates.js';

const COLUMNS: Array<[string, (m: ParityReport['tasks'][number]['comparisons'][string]) => string]> = [
  ['max abs diff', (m) => formatNumber(m.maxAbsDiff)],
  ['mean abs diff', (m) => formatNumber(m.meanAbsDiff)],
  ['min cosine', (m) => m.minCosine.toFixed(6)],
  ['max softmax diff', (m) => formatNumber(m.maxSoftmaxDiff)],
  ['top-1 agreement', (m) => `${(m.top1Agreement * 100).toFixed(2)}%`],
  [
    'top-1 agreement, margin >= 0.1',
    (m) =>
      m.confidentAgreement === undefined ? '-' : `${(m.confidentAgreement * 100).toFixed(2)}% of ${m.confidentSamples}`,
  ],
  ['NaN/Inf', (m) => String(m.nonFinite)],
  ['accuracy (gold)', (m) => (m.accuracy === undefined ? '-' : `${(m.accuracy * 100).toFixed(2)}% of ${m.labelled}`)],
];

/** Size and latency of every variant beside FP32's, when the bundle has more than the INT8 section shows (FP16). */
function variantsSection(report: ParityReport): string[] {
  const rows = report.tasks.filter((t) => t.sizes?.fp16 !== undefined);
  if (rows.length === 0) return [];
  const lines = [
    '',
    '## FP16',
    '',
    'Float16 weights and compute, float32 inputs and outputs (for GPU/WebGPU deploys; onnxruntime CPU runs it, rarely faster than FP32).',
    '',
  ];
  lines.push(
    '| task | FP16 size | of FP32 | batch | tokens | FP32 ms | FP16 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const t of rows) {
    const size = `| ${t.task} | ${(t.sizes!.fp16! / 2 ** 20).toFixed(1)} MiB | ${((t.sizes!.fp16! / t.sizes!.fp32!) * 100).toFixed(1)}% |`;
    const latency = (t.latency ?? []).filter((l) => l.fp16Ms !== undefined);
    if (latency.length === 0) lines.push(`${size} - | - | - | - |`);
    for (const l of latency)
      lines.push(`${size} ${l.batch} | ${l.sequence} | ${l.fp32Ms.toFixed(1)} | ${l.fp16Ms!.toFixed(1)} |`);
  }
  return lines;
}

function int8Section(report: ParityReport): string[] {
  const int8 = report.int8;
  if (!int8) return [];
  const lines = ['', '## INT8', ''];
  const kept = Object.entries(int8.higherPrecision);
  const byMethod = new Map<string, number>();
  for (const [, method] of kept) byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
  const keptText = [...byMethod].map(([method, count]) => `${count} \`${method}\``).join(', ');
  lines.push(
    `Mode \`${int8.mode}\`: ${kept.length > 0 ? `${kept.length} MatMuls kept at higher precision (${keptText}), any others` : 'MatMuls'} \`${int8.method}\`; the INT8 gate is judged on ${int8.judgedSamples} samples.`,
  );
  if (int8.calibration) {
    const c = int8.calibration;
    const agreement = Object.entries(c.agreement)
      .map(([task, value]) => `${task} ${(value * 100).toFixed(2)}% (target ${(c.target[task]! * 100).toFixed(1)}%)`)
      .join(', ');
    lines.push(
      '',
      `Chosen on a calibration split of ${c.samples} other samples (seed ${c.seed}), against ${c.against ?? 'FP32 ONNX'}: ${agreement}${c.speedupBatch1 ? `; ${c.speedupBatch1.toFixed(2)}x FP32 speed at batch 1` : ''}.`,
      '',
      '| trial | base | MatMuls at higher precision (weight-only 12-bit within the size goal, then 10-bit) | calibration agreement | passed |',
      '|---:|---|---:|---|---|',
      ...c.trials.map(
        (t, i) =>
          `| ${i + 1} | ${t.base} | ${t.fallbackNodes} | ${Object.entries(t.agreement)
            .map(([task, v]) => `${task} ${(v * 100).toFixed(2)}%`)
            .join(', ')} | ${t.passed ? 'yes' : t.stoppedEarly ? 'no (stopped early)' : 'no'} |`,
      ),
    );
  }
  if (kept.length > 0)
    lines.push('', `Kept at higher precision: ${kept.map(([node, method]) => `\`${node}\` (${method})`).join(', ')}.`);
  if (int8.note) lines.push('', `**Note:** ${int8.note}`);
  const latency = report.tasks.filter((t) => t.latency || t.int8SizeShare !== undefined);
  if (latency.length > 0) {
    lines.push(
      '',
      '| task | batch | tokens | FP32 ms | INT8 ms | speed-up | INT8 size |',
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const t of latency) {
      for (const l of t.latency ?? []) {
        lines.push(
          `| ${t.task} | ${l.batch} | ${l.sequence} | ${l.fp32Ms.toFixed(1)} | ${l.int8Ms?.toFixed(1) ?? '-'} | ${l.int8Ms ? `${(l.fp32Ms / l.int8Ms).toFixed(2)}x` : '-'} | ${t.int8SizeShare !== undefined ? `${(t.int8SizeShare * 100).toFixed(1)}%` : '-'} |`,
        );
      }
    }
  }
  return lines;
}

/** Which texts did what, and the warnings about them. */
function textsSection(report: ParityReport): string[] {
  const { splits, origin, warnings } = report.samples;
  const lines: string[] = [];
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
  for (const warning of warnings ?? []) lines.push(`> **Warning:** ${warning}.`, '');
  return lines;
}

export function renderMarkdown(report: ParityReport): string {
  const lines: string[] = [];
  lines.push(`# Parity report: ${report.passed ? 'PASSED' : 'FAILED'}`, '');
  lines.push(
    `Model \`${report.model.dir}\` (${report.model.format}); ${report.samples.count} ${report.samples.source} samples, ` +
      `seed ${report.samples.seed}, max_length ${report.samples.maxLength}; ${report.tool.name} ${report.tool.version}, ${report.createdAt}.`,
    '',
  );
  lines.push(...textsSection(report));
  if (report.tasks.some((task) => task.comparisons['multihead-fp32'])) {
    lines.push(
      '`multihead.onnx` (one encoder pass, one `<task>_logits` output per task) is gated like the per-task graphs, output by output.',
      '',
    );
    const measured = report.tasks.flatMap((task) =>
      Object.entries(task.comparisons).flatMap(([comparison, metrics]) =>
        metrics.measuredOn ? [{ task: task.task, comparison, on: metrics.measuredOn }] : [],
      ),
    );
    const shared = measured.filter((m) => !m.comparison.startsWith('multihead-'));
    const searched = measured.filter((m) => m.comparison.startsWith('multihead-'));
    for (const graph of new Set(searched.map((s) => s.on.graph))) {
      const rows = searched.filter((s) => s.on.graph === graph);
      const { checkedSamples, standInSamples } = rows[0]!.on;
      lines.push(
        `Rows ${[...new Set(rows.map((s) => `"${comparisonTitle(s.comparison)}"`))].join(', ')} hold, on ${standInSamples ?? 'their'} calibration samples, the logits of ${graph}, which computes what the multihead graph does (checked: the multihead graph ran ${checkedSamples} other calibration samples itself, the shortest and the longest, and gave bit-identical logits); it ran every other sample itself.`,
        '',
      );
    }
    if (shared.length > 0) {
      const checked = Math.min(...shared.map((s) => s.on.checkedSamples));
      lines.push(
        `Each task graph ran on ${checked} samples (the shortest and the longest) and gave logits bit-identical to its multihead graph's output there; its rows below are that output on every sample (${shared.map((s) => `${s.task} ${s.comparison}`).join(', ')}).`,
        '',
      );
    }
  }
  lines.push(`| task | comparison | ${COLUMNS.map(([title]) => title).join(' | ')} | gates |`);
  lines.push(`|---|---|${COLUMNS.map(() => '---:').join('|')}|---|`);
  for (const task of report.tasks) {
    for (const [comparison, metrics] of Object.entries(task.comparisons)) {
      const gates = task.gates
        .filter((gate) => gate.comparison === comparison)
        .map((gate) => `${gate.passed ? 'pass' : '**FAIL**'} ${gate.metric} ${gate.op} ${formatNumber(gate.limit)}`)
        .join('; ');
      lines.push(
        `| ${task.task} | ${comparisonTitle(comparison)} | ${COLUMNS.map(([, cell]) => cell(metrics)).join(' | ')} | ${gates || '-'} |`,
      );
    }
  }
  lines.push(...int8Section(report), ...variantsSection(report));
  const failing = report.tasks.flatMap((task) =>
    task.gates.filter((gate) => !gate.passed).map((gate) => ({ task, gate })),
  );
  if (failing.length > 0) {
    lines.push('', '## Failed gates', '');
    for (const { task, gate } of failing) {
      lines.push(
        `- \`${task.task}\`: ${gate.comparison} ${gate.metric} = ${formatNumber(gate.value)} (limit ${gate.op} ${formatNumber(gate.limit)})`,
      );
    }
  }
  lines.push('', '## Worst examples', '');
  for (const task of report.tasks) {
    for (const [comparison, metrics] of Object.entries(task.comparisons)) {
      const worst = metrics.worst.slice(0, 3);
      if (worst.length === 0) continue;
      lines.push(`**${task.task}, ${comparisonTitle(comparison)}**`, '');
      for (const example of worst) {
        const text = example.text.length > 80 ? `${example.text.slice(0, 77)}...` : example.text;
        lines.push(
          `- #${example.index} diff ${formatNumber(example.maxAbsDiff)}, top-1 ${example.reference} vs ${example.candidate}: ${JSON.stringify(text)}`,
        );
      }
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
