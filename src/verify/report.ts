import type { ParityReport } from '../config/report.js';
import { formatNumber } from './gates.js';

const COLUMNS: Array<[string, (m: ParityReport['tasks'][number]['comparisons'][string]) => string]> = [
  ['max abs diff', (m) => formatNumber(m.maxAbsDiff)],
  ['mean abs diff', (m) => formatNumber(m.meanAbsDiff)],
  ['min cosine', (m) => m.minCosine.toFixed(6)],
  ['max softmax diff', (m) => formatNumber(m.maxSoftmaxDiff)],
  ['top-1 agreement', (m) => `${(m.top1Agreement * 100).toFixed(2)}%`],
  ['NaN/Inf', (m) => String(m.nonFinite)],
  ['accuracy (gold)', (m) => (m.accuracy === undefined ? '-' : `${(m.accuracy * 100).toFixed(2)}% of ${m.labelled}`)],
];

const COMPARISON_TITLES: Record<string, string> = {
  pytorch: 'PyTorch',
  fp32: 'FP32 ONNX vs PyTorch',
  int8: 'INT8 ONNX vs PyTorch',
};

export function renderMarkdown(report: ParityReport): string {
  const lines: string[] = [];
  lines.push(`# Parity report: ${report.passed ? 'PASSED' : 'FAILED'}`, '');
  lines.push(
    `Model \`${report.model.dir}\` (${report.model.format}); ${report.samples.count} ${report.samples.source} samples, ` +
      `seed ${report.samples.seed}, max_length ${report.samples.maxLength}; ${report.tool.name} ${report.tool.version}, ${report.createdAt}.`,
    '',
  );
  lines.push(`| task | comparison | ${COLUMNS.map(([title]) => title).join(' | ')} | gates |`);
  lines.push(`|---|---|${COLUMNS.map(() => '---:').join('|')}|---|`);
  for (const task of report.tasks) {
    for (const [comparison, metrics] of Object.entries(task.comparisons)) {
      const gates = task.gates
        .filter((gate) => gate.comparison === comparison)
        .map((gate) => `${gate.passed ? 'pass' : '**FAIL**'} ${gate.metric} ${gate.op} ${formatNumber(gate.limit)}`)
        .join('; ');
      lines.push(
        `| ${task.task} | ${COMPARISON_TITLES[comparison] ?? comparison} | ${COLUMNS.map(([, cell]) => cell(metrics)).join(' | ')} | ${gates || '-'} |`,
      );
    }
  }
  const failing = report.tasks.flatMap((task) => task.gates.filter((gate) => !gate.passed).map((gate) => ({ task, gate })));
  if (failing.length > 0) {
    lines.push('', '## Failed gates', '');
    for (const { task, gate } of failing) {
      lines.push(`- \`${task.task}\`: ${gate.comparison} ${gate.metric} = ${formatNumber(gate.value)} (limit ${gate.op} ${formatNumber(gate.limit)})`);
    }
  }
  lines.push('', '## Worst examples', '');
  for (const task of report.tasks) {
    for (const [comparison, metrics] of Object.entries(task.comparisons)) {
      const worst = metrics.worst.slice(0, 3);
      if (worst.length === 0) continue;
      lines.push(`**${task.task}, ${COMPARISON_TITLES[comparison] ?? comparison}**`, '');
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
