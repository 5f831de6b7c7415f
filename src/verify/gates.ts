import type { Manifest } from '../config/manifest.js';
import type { GateResult } from '../config/report.js';
import type { GateSpec } from '../plan/gate-spec.js';
import {
  defaultLimit,
  GATE_METRICS,
  multiheadComparison,
  VARIANT_PLANS,
  VARIANTS,
  type GateMetric,
  type GateOp,
  type Variant,
} from '../plan/variants.js';
import type { ComparisonMetrics } from '../metrics/logits.js';

export type { GateSpec } from '../plan/gate-spec.js';

export interface Gate {
  /** Which comparison it applies to, e.g. "fp32" (FP32 ONNX vs PyTorch). */
  comparison: string;
  metric: GateMetric;
  op: GateOp;
  limit: number;
}

/** Every variant's default gates (the plan's), the FP32 tolerance and INT8 top-1 limit as given. */
export function defaultGates(fp32Tolerance: number, int8Top1: number = defaultLimit('int8', 'top1Agreement')): Gate[] {
  const options = { fp32Tolerance, int8Top1 };
  return VARIANTS.flatMap((variant) =>
    VARIANT_PLANS[variant].gates.map((gate) => ({
      comparison: variant,
      metric: gate.metric,
      op: GATE_METRICS[gate.metric].op,
      limit: gate.option ? options[gate.option] : gate.limit,
    })),
  );
}

/** The same gates for the multihead graph's outputs ("multihead-fp32", "multihead-int8", ...), added to the per-task ones. */
export function withMultiheadGates(gates: Gate[]): Gate[] {
  return [...gates, ...gates.map((gate) => ({ ...gate, comparison: multiheadComparison(gate.comparison as Variant) }))];
}

export function evaluateGates(gates: Gate[], comparisons: Record<string, ComparisonMetrics>): GateResult[] {
  return gates
    .filter((gate) => comparisons[gate.comparison])
    .map((gate) => {
      const metrics = comparisons[gate.comparison]!;
      const value = metrics[gate.metric];
      const finite = Number.isFinite(value) && metrics.nonFinite === 0;
      const passed = finite && (gate.op === '<=' ? value <= gate.limit : value >= gate.limit);
      return { ...gate, value: Number.isFinite(value) ? value : null, passed };
    });
}

export function describeFailure(task: string, gate: GateResult): string {
  const value = gate.value === null ? 'NaN/Inf' : formatNumber(gate.value);
  return `task "${task}": ${gate.comparison} ${gate.metric} = ${value}, limit ${gate.op} ${formatNumber(gate.limit)}`;
}

export function formatNumber(value: number | null): string {
  if (value === null) return 'n/a';
  if (value === 0) return '0';
  if (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4) return value.toExponential(2);
  return value.toFixed(4);
}

/** The gates of one task: defaults, then global --gate values, then the task's own. */
export function gatesForTask(task: string, fp32Tolerance: number, int8Top1: number, specs: GateSpec[] = []): Gate[] {
  const gates = defaultGates(fp32Tolerance, int8Top1);
  for (const spec of [...specs.filter((s) => !s.task), ...specs.filter((s) => s.task === task)]) {
    const existing = gates.find((gate) => gate.comparison === spec.comparison && gate.metric === spec.metric);
    if (existing) existing.limit = spec.limit;
    else
      gates.push({
        comparison: spec.comparison,
        metric: spec.metric,
        op: GATE_METRICS[spec.metric].op,
        limit: spec.limit,
      });
  }
  return gates;
}

/** The gates a bundle was built with, from its manifest's recorded options (what `verify` checks). */
export function gatesFromManifest(task: string, manifest: Manifest): Gate[] {
  const options = manifest.options as { fp32Tolerance?: number; int8Top1?: number; gates?: GateSpec[] };
  return gatesForTask(
    task,
    options.fp32Tolerance ?? defaultLimit('fp32', 'maxAbsDiff'),
    options.int8Top1 ?? defaultLimit('int8', 'top1Agreement'),
    options.gates ?? [],
  );
}
