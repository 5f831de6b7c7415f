import type { GateResult } from '../config/report.js';
import type { ComparisonMetrics } from './metrics.js';

export interface Gate {
  /** Which comparison it applies to, e.g. "fp32" (FP32 ONNX vs PyTorch). */
  comparison: string;
  metric: 'maxAbsDiff' | 'top1Agreement';
  op: '<=' | '>=';
  limit: number;
}

export function defaultGates(fp32Tolerance: number, int8Top1 = 0.99): Gate[] {
  return [
    { comparison: 'fp32', metric: 'maxAbsDiff', op: '<=', limit: fp32Tolerance },
    { comparison: 'int8', metric: 'top1Agreement', op: '>=', limit: int8Top1 },
  ];
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
