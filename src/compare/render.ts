import { VARIANT_PLANS } from '../plan/variants.js';
import { formatNumber } from '../verify/gates.js';
import type { CompareResult, TaskVariantComparison } from './compare.js';
import { describeCompareFailure } from './gates.js';
import type { ChangedText } from './metrics.js';

/** Changed texts listed per task and variant in the text and Markdown reports (JSON has them all). */
export const CHANGED_SHOWN = 10;

export const percent = (value: number) => `${(value * 100).toFixed(2)}%`;
export const interval = ([low, high]: [number, number]) => `${(low * 100).toFixed(1)}-${(high * 100).toFixed(1)}%`;
const signed = (value: number, digits = 2) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
const clip = (text: string, width = 80) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

export function bytes(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${value} B`;
}

export const title = (c: TaskVariantComparison) => `${c.task} ${VARIANT_PLANS[c.variant].title}`;

function agreementLine(c: TaskVariantComparison): string {
  const m = c.metrics;
  return `agreement ${percent(m.agreement)} (${m.agreed}/${m.texts}, 95% ${interval(m.agreementInterval)})`;
}

function accuracyLine(c: TaskVariantComparison): string | undefined {
  const a = c.metrics.accuracy;
  if (!a) return undefined;
  return `accuracy ${percent(a.old)} -> ${percent(a.new)} (drop ${signed(a.drop * 100)} points, 95% ${signed(a.dropInterval[0] * 100, 1)} to ${signed(a.dropInterval[1] * 100, 1)}; ${a.labelled} labelled)`;
}

export function labelLine(c: TaskVariantComparison): string | undefined {
  const { added, removed, reordered } = c.labels;
  const parts = [
    ...(added.length ? [`added ${added.join(', ')}`] : []),
    ...(removed.length ? [`removed ${removed.join(', ')}`] : []),
    ...(reordered ? ['class ids reordered (matched by name)'] : []),
  ];
  return parts.length ? `labels: ${parts.join('; ')}` : undefined;
}

function shiftLine(c: TaskVariantComparison): string {
  const s = c.metrics.shift;
  return `shift: probability max ${formatNumber(s.maxProbability)} mean ${formatNumber(s.meanProbability)}, logit max ${formatNumber(s.maxLogit)} mean ${formatNumber(s.meanLogit)}`;
}

const changedLine = (t: ChangedText) =>
  `"${clip(t.text)}": ${t.old} (${t.oldConfidence.toFixed(2)}) -> ${t.new} (${t.newConfidence.toFixed(2)})${t.gold ? `, gold ${t.gold}` : ''}`;

export function headerLines(result: CompareResult): string[] {
  return [
    `old ${result.old.dir} (${result.old.createdAt}, ${bytes(result.old.bytes)})`,
    `new ${result.new.dir} (${result.new.createdAt}, ${bytes(result.new.bytes)})`,
    `${result.texts.count} texts (${result.texts.stored} stored in the bundles, ${result.texts.samples} from --samples; ${result.texts.labelled} labelled)`,
    ...(result.tasks.onlyOld.length ? [`only in old (not compared): ${result.tasks.onlyOld.join(', ')}`] : []),
    ...(result.tasks.onlyNew.length ? [`only in new (not compared): ${result.tasks.onlyNew.join(', ')}`] : []),
    ...result.notes.map((note) => `note: ${note}`),
  ];
}

export function failures(result: CompareResult): string[] {
  return result.comparisons.flatMap((c) =>
    c.gates.filter((g) => !g.passed).map((g) => describeCompareFailure(c.task, g)),
  );
}

/** The report for the terminal. */
export function renderCompareText(result: CompareResult): string {
  const lines = headerLines(result);
  for (const c of result.comparisons) {
    const gates = c.gates.map((g) => `${g.passed ? 'pass' : 'FAIL'} ${g.metric} ${g.op} ${formatNumber(g.limit)}`);
    lines.push(`${title(c)}: ${agreementLine(c)}; ${gates.join('; ')}`);
    for (const extra of [accuracyLine(c), labelLine(c), shiftLine(c)]) if (extra) lines.push(`  ${extra}`);
    lines.push(
      `  size ${bytes(c.size.old)} -> ${bytes(c.size.new)} (${c.size.delta >= 0 ? '+' : ''}${bytes(c.size.delta)})`,
    );
    for (const t of c.metrics.changed.slice(0, CHANGED_SHOWN)) lines.push(`  changed ${changedLine(t)}`);
    if (c.metrics.changed.length > CHANGED_SHOWN)
      lines.push(`  ... ${c.metrics.changed.length - CHANGED_SHOWN} more changed texts (--json lists all)`);
  }
  for (const l of result.latency) {
    lines.push(
      `latency ${VARIANT_PLANS[l.variant].title}: ${l.oldMsPerText.toFixed(3)} -> ${l.newMsPerText.toFixed(3)} ms per text (x${l.ratio.toFixed(2)})`,
    );
  }
  lines.push(
    result.passed ? 'passed: the new release predicts what the old one did' : `FAILED: ${failures(result).join('; ')}`,
  );
  return lines.join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report as Markdown: a table per task and variant, then the changed texts. */
export function renderCompareMarkdown(result: CompareResult): string {
  const lines = [
    `## Release comparison: ${result.passed ? 'passed' : 'FAILED'}`,
    '',
    ...headerLines(result).map((line) => `- ${cell(line)}`),
    '',
    '| task | variant | agreement (95%) | changed | accuracy old -> new | max prob. shift | size | gates |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const c of result.comparisons) {
    const m = c.metrics;
    const accuracy = m.accuracy ? `${percent(m.accuracy.old)} -> ${percent(m.accuracy.new)}` : 'no labels';
    const gates = c.gates
      .map((g) => `${g.passed ? '✅' : '❌'} ${g.metric} ${g.op} ${formatNumber(g.limit)}`)
      .join('<br>');
    const size = `${bytes(c.size.old)} -> ${bytes(c.size.new)}`;
    lines.push(
      `| ${cell(c.task)} | ${VARIANT_PLANS[c.variant].title} | ${percent(m.agreement)} (${interval(m.agreementInterval)}) | ${m.changed.length} | ${accuracy} | ${formatNumber(m.shift.maxProbability)} | ${size} | ${gates} |`,
    );
  }
  for (const l of result.latency) {
    lines.push(
      '',
      `Latency ${VARIANT_PLANS[l.variant].title}: ${l.oldMsPerText.toFixed(3)} -> ${l.newMsPerText.toFixed(3)} ms per text (x${l.ratio.toFixed(2)})`,
    );
  }
  for (const c of result.comparisons.filter((c) => c.metrics.changed.length > 0 || labelLine(c))) {
    lines.push('', `### ${cell(title(c))}`, '');
    const labels = labelLine(c);
    if (labels) lines.push(`- ${cell(labels)}`);
    for (const t of c.metrics.changed.slice(0, CHANGED_SHOWN)) lines.push(`- ${cell(changedLine(t))}`);
    if (c.metrics.changed.length > CHANGED_SHOWN) lines.push(`- ... ${c.metrics.changed.length - CHANGED_SHOWN} more`);
  }
  return `${lines.join('\n')}\n`;
}
