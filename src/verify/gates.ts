import type { Manifest } from '../config/manifest.js';
import type { GateResult } from '../config/report.js';
import { GateError } from '../errors.js';
import type { GateOn, GateSpec } from '../plan/gate-spec.js';
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
  /** `--gate-on lower-bound`: a proportion is judged at the pessimistic end of its 95% interval. */
  on?: GateOn;
}

/** The value a gate judges: the metric, or with `lower-bound` the pessimistic end of its 95% interval. */
function judgedValue(gate: Gate, metrics: ComparisonMetrics): { value: number | undefined; point?: number } {
  const point = metrics[gate.metric];
  if (gate.on !== 'lower-bound') return { value: point };
  if (gate.metric === 'top1Agreement') return { value: metrics.top1Interval?.[0], point };
  if (gate.metric === 'accuracyDrop') return { value: metrics.accuracyDropInterval?.[1], point };
  return { value: point };
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
      const { value, point } = judgedValue(gate, metrics);
      const known = value !== undefined && Number.isFinite(value);
      const passed = known && metrics.nonFinite === 0 && (gate.op === '<=' ? value <= gate.limit : value >= gate.limit);
      const unlabelled = gate.metric === 'accuracyDrop' && metrics.labelled === undefined;
      return {
        ...gate,
        value: known ? value : null,
        passed,
        samples: gate.metric === 'accuracyDrop' ? (metrics.labelled ?? 0) : metrics.samples,
        ...(point !== undefined && Number.isFinite(point) ? { point } : {}),
        ...(unlabelled
          ? { reason: 'no labelled texts' }
          : metrics.nonFinite > 0
            ? { reason: `${metrics.nonFinite} NaN/Inf outputs` }
            : {}),
      };
    });
}

export function describeFailure(task: string, gate: GateResult): string {
  const value = gate.value === null ? (gate.reason ?? 'NaN/Inf') : formatNumber(gate.value);
  const bound =
    gate.on === 'lower-bound' && gate.point !== undefined ? ` (95% bound; point ${formatNumber(gate.point)})` : '';
  return `task "${task}": ${gate.comparison} ${gate.metric} = ${value}${bound}, limit ${gate.op} ${formatNumber(gate.limit)}`;
}

/** Exit 3's error: every failed gate of every task on one line ("parity gate failed: task ...; task ..."). */
export function parityGateError(
  tasks: ReadonlyArray<{ task: string; gates: readonly GateResult[] }>,
  details: { file: string; hint?: string },
): GateError {
  const failures = tasks.flatMap((t) => t.gates.filter((g) => !g.passed).map((g) => describeFailure(t.task, g)));
  return new GateError(`parity gate failed: ${failures.join('; ')}`, details);
}

export function formatNumber(value: number | null): string {
  if (value === null) return 'n/a';
  if (value === 0) return '0';
  if (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4) return value.toExponential(2);
  return value.toFixed(4);
}

/** The gates of one task: defaults, then global --gate values, then the task's own. */
export function gatesForTask(
  task: string,
  fp32Tolerance: number,
  int8Top1: number,
  specs: GateSpec[] = [],
  on: GateOn = 'point',
): Gate[] {
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
  return on === 'point' ? gates : gates.map((gate) => ({ ...gate, on }));
}

/** The gates a bundle was built with, from its manifest's recorded options (what `verify` checks). */
export function gatesFromManifest(task: string, manifest: Manifest): Gate[] {
  const options = manifest.options as {
    fp32Tolerance?: number;
    int8Top1?: number;
    gates?: GateSpec[];
    gateOn?: GateOn;
  };
  return gatesForTask(
    task,
    options.fp32Tolerance ?? defaultLimit('fp32', 'maxAbsDiff'),
    options.int8Top1 ?? defaultLimit('int8', 'top1Agreement'),
    options.gates ?? [],
    options.gateOn ?? 'point',
  );
}
