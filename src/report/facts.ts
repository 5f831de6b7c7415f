import type { GateResult, ParityReport } from '../config/report.js';
import { comparisonVariant, VARIANT_PLANS, type Variant } from '../plan/variants.js';
import { formatNumber } from '../verify/gates.js';

/** What both renderers know beside the report: label names per task (id -> name), from the bundle's configs. */
export interface RenderContext {
  labels?: Record<string, Record<string, string>>;
}

export type TaskReport = ParityReport['tasks'][number];
export type Metrics = TaskReport['comparisons'][string];

/** One headline row: a task graph's variant on its gated (judged) texts. */
export interface SummaryRow {
  task: string;
  comparison: string;
  variant: Variant;
  metrics: Metrics;
  gates: GateResult[];
  size?: number;
  sizeShare?: number;
  speedup?: number;
}

/** Speed-up over FP32 and where it was measured, when the report has one for the variant. */
export interface Speed {
  value: number;
  where: string;
}

/** Calibration and embedded splits are reported apart; multihead outputs repeat the task graphs' rows. */
export function isHeadline(comparison: string): boolean {
  return !comparison.startsWith('multihead-') && !/-(calibration|embedded)$/.test(comparison);
}

export const percent = (fraction: number, digits = 2): string => `${(fraction * 100).toFixed(digits)}%`;

export function intervalText(interval: readonly [number, number] | undefined): string {
  return interval ? `${(interval[0] * 100).toFixed(2)}–${percent(interval[1])}` : '';
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function gateText(gate: GateResult, failMark = 'FAIL'): string {
  const bound = gate.on === 'lower-bound' ? ' (95% lower bound)' : '';
  return `${gate.passed ? 'pass' : failMark} ${gate.metric} ${gate.op} ${formatNumber(gate.limit)}${bound}`;
}

export function describeGateValue(gate: GateResult): string {
  const value = gate.value === null ? (gate.reason ?? 'n/a') : formatNumber(gate.value);
  return `${value}${gate.samples !== undefined ? ` on ${gate.samples} texts` : ''}`;
}

/** A variant's speed-up over FP32: --latency's first batch-1 point, else INT8 search's at batch 1. */
export function variantSpeed(report: ParityReport, task: TaskReport, variant: Variant): Speed | undefined {
  if (variant === 'fp32') return undefined;
  const key = variant === 'int8' ? 'int8Ms' : 'fp16Ms';
  const point = (task.latency ?? []).find((l) => l.batch === 1 && l[key]) ?? (task.latency ?? []).find((l) => l[key]);
  if (point?.[key]) {
    return { value: point.fp32Ms / point[key], where: `batch ${point.batch}, ${point.sequence} tokens (--latency)` };
  }
  const search = report.int8?.calibration;
  if (variant === 'int8' && search?.speedupBatch1 !== undefined) {
    const tokens = search.speed ? `${search.speed.p50Tokens} tokens (the texts' median)` : '128 tokens';
    return { value: search.speedupBatch1, where: `batch 1, ${tokens}, measured by the INT8 search on multihead` };
  }
  return undefined;
}

export function summaryRows(report: ParityReport): SummaryRow[] {
  return report.tasks.flatMap((task) =>
    Object.entries(task.comparisons).flatMap(([comparison, metrics]): SummaryRow[] => {
      const variant = comparisonVariant(comparison);
      if (!variant || !isHeadline(comparison)) return [];
      const size = task.sizes?.[variant];
      const fp32 = task.sizes?.fp32;
      return [
        {
          task: task.task,
          comparison,
          variant,
          metrics,
          gates: task.gates.filter((gate) => gate.comparison === comparison),
          ...(size !== undefined ? { size } : {}),
          ...(size !== undefined && fp32 ? { sizeShare: size / fp32 } : {}),
          ...(variantSpeed(report, task, variant) ? { speedup: variantSpeed(report, task, variant)!.value } : {}),
        },
      ];
    }),
  );
}

export const variantTitle = (variant: Variant): string => VARIANT_PLANS[variant].title;

export interface GateRow {
  task: string;
  gate: GateResult;
}

export const allGates = (report: ParityReport): GateRow[] =>
  report.tasks.flatMap((task) => task.gates.map((gate) => ({ task: task.task, gate })));

/** "12 of 12 gates hold: FP32 on 517 texts, INT8 on 152 judged texts". */
export function verdictLine(report: ParityReport): string {
  const gates = allGates(report);
  const held = gates.filter((g) => g.gate.passed).length;
  const texts = new Map<string, number>();
  for (const { gate } of gates) {
    const variant = comparisonVariant(gate.comparison);
    if (variant && gate.samples !== undefined && !texts.has(variant)) texts.set(variant, gate.samples);
  }
  const judged = report.samples.splits && report.samples.splits.calibration > 0 ? ' judged' : '';
  const on = [...texts].map(
    ([variant, n]) => `${variantTitle(variant as Variant)} on ${n}${variant === 'int8' ? judged : ''} texts`,
  );
  const head = gates.length === 0 ? 'no gates' : `${held} of ${gates.length} gates hold`;
  return `${head}${on.length > 0 ? `: ${on.join(', ')}` : ''}`;
}

export const failedGates = (report: ParityReport): GateRow[] => allGates(report).filter((g) => !g.gate.passed);

export function labelName(context: RenderContext, task: string, index: number): string {
  const name = context.labels?.[task]?.[String(index)];
  return name === undefined ? String(index) : `${index} ${name}`;
}
