import type { GateResult } from '../config/report.js';
import { GateError } from '../errors.js';
import type { Variant } from '../plan/variants.js';
import { formatNumber } from '../verify/gates.js';
import type { TaskVariantMetrics } from './metrics.js';

export interface CompareGateLimits {
  minAgreement: number;
  maxAccuracyDrop?: number | undefined;
}

/** The gates' comparison name (JUnit's test case name starts with it): "int8 new vs old". */
function releaseComparison(variant: Variant): string {
  return `${variant} new vs old`;
}

/** One task and variant's gates: agreement >= min; with --max-accuracy-drop, old - new accuracy <= max. */
export function evaluateCompareGates(
  variant: Variant,
  metrics: TaskVariantMetrics,
  limits: CompareGateLimits,
): GateResult[] {
  const comparison = releaseComparison(variant);
  const gates: GateResult[] = [
    {
      comparison,
      metric: 'agreement',
      op: '>=',
      limit: limits.minAgreement,
      value: metrics.agreement,
      passed: metrics.agreement >= limits.minAgreement,
      samples: metrics.texts,
    },
  ];
  if (limits.maxAccuracyDrop !== undefined) {
    const accuracy = metrics.accuracy;
    gates.push({
      comparison,
      metric: 'accuracy_drop',
      op: '<=',
      limit: limits.maxAccuracyDrop,
      value: accuracy ? accuracy.drop : null,
      // without labels there is nothing to judge: the gate is reported, not failed
      passed: accuracy ? accuracy.drop <= limits.maxAccuracyDrop : true,
      samples: accuracy?.labelled ?? 0,
      ...(accuracy ? {} : { reason: 'no labelled texts for this task' }),
    });
  }
  return gates;
}

/** "task "topic" int8: agreement = 0.9512, limit >= 0.9900". */
export function describeCompareFailure(task: string, gate: GateResult): string {
  const variant = gate.comparison.split(' ')[0];
  return `task "${task}" ${variant}: ${gate.metric} = ${gate.value === null ? 'n/a' : formatNumber(gate.value)}, limit ${gate.op} ${formatNumber(gate.limit)}`;
}

/** The exit-3 error of a comparison whose gates failed, naming each failed gate; its payload is the comparison. */
export function releaseGateError(
  comparisons: ReadonlyArray<{ task: string; gates: GateResult[] }>,
  file: string,
  payload: unknown,
): GateError {
  const failed = comparisons.flatMap((c) =>
    c.gates.filter((gate) => !gate.passed).map((gate) => describeCompareFailure(c.task, gate)),
  );
  const error = new GateError(`release gate failed: ${failed.join('; ')}`, { file });
  error.payload = payload;
  return error;
}
