import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z, ZodError } from 'zod';
import type { Manifest } from '../config/manifest.js';
import { DEFAULTS, describeFirstIssue } from '../config/options.js';
import { InputError } from '../errors.js';
import type { GateResult } from '../config/report.js';
import type { GateSpec } from '../plan/gate-spec.js';
import {
  GATE_METRICS,
  multiheadComparison,
  VARIANT_PLANS,
  VARIANTS,
  type GateMetric,
  type GateOp,
  type Variant,
} from '../plan/variants.js';
import type { ComparisonMetrics } from './metrics.js';

export type { GateSpec } from '../plan/gate-spec.js';

export interface Gate {
  /** Which comparison it applies to, e.g. "fp32" (FP32 ONNX vs PyTorch). */
  comparison: string;
  metric: GateMetric;
  op: GateOp;
  limit: number;
}

/** Every variant's default gates (the plan's), the FP32 tolerance and INT8 top-1 limit as given. */
export function defaultGates(fp32Tolerance: number, int8Top1: number = DEFAULTS.int8Top1): Gate[] {
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

const METRIC_BY_KEY: Record<string, GateMetric> = Object.fromEntries(
  Object.entries(GATE_METRICS).map(([metric, { key }]) => [key, metric as GateMetric]),
);
const GATE_TEXT = new RegExp(
  `^(?:([A-Za-z0-9_-]+)\\.)?(${VARIANTS.join('|')})\\.(${Object.keys(METRIC_BY_KEY).join('|')})=([0-9.eE+-]+)$`,
);

/** A gate override from --gate: "[task.]<variant>.max_abs=1e-5" or "[task.]<variant>.top1=0.98". */
export function parseGateSpec(text: string): GateSpec {
  const match = GATE_TEXT.exec(text.trim());
  const limit = match ? Number(match[4]) : NaN;
  if (!match || !Number.isFinite(limit)) {
    throw new Error(
      `--gate "${text}": expected [task.]${VARIANTS.join('|')}.${Object.keys(METRIC_BY_KEY).join('|')}=<number>, e.g. sentiment.int8.top1=0.98`,
    );
  }
  return {
    ...(match[1] ? { task: match[1] } : {}),
    comparison: match[2] as Variant,
    metric: METRIC_BY_KEY[match[3]!]!,
    limit,
  };
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

const variantLimits = z
  .object({ max_abs: z.number().min(0).optional(), top1: z.number().min(0).max(1).optional() })
  .strict();
const limitsSchema = z
  .object(
    Object.fromEntries(VARIANTS.map((variant) => [variant, variantLimits.optional()])) as Record<
      Variant,
      z.ZodOptional<typeof variantLimits>
    >,
  )
  .strict();

/** --gates-file: {"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}} (validated). */
export const gatesFileSchema = limitsSchema
  .extend({
    tasks: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a task name (letters, digits, "_" or "-")'), limitsSchema)
      .optional(),
  })
  .strict();

export function gateSpecsFromFile(content: unknown): GateSpec[] {
  const parsed = gatesFileSchema.parse(content);
  const specs: GateSpec[] = [];
  const add = (limits: z.infer<typeof limitsSchema>, task?: string) => {
    for (const comparison of VARIANTS) {
      for (const [key, limit] of Object.entries(limits[comparison] ?? {})) {
        if (limit !== undefined)
          specs.push({ ...(task ? { task } : {}), comparison, metric: METRIC_BY_KEY[key]!, limit });
      }
    }
  };
  add(parsed);
  for (const [task, limits] of Object.entries(parsed.tasks ?? {})) add(limits, task);
  return specs;
}

/** Reads a --gates-file (JSON, validated): exit 2 naming the file when it cannot be read or is invalid. */
export function readGatesFile(file: string): GateSpec[] {
  let content: unknown;
  try {
    // fatal: a corrupt byte must not turn a task name into another one silently
    content = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(resolve(file))));
  } catch (error) {
    throw new InputError(`cannot read the gates file: ${(error as Error).message.split('\n')[0]}`, {
      file: resolve(file),
    });
  }
  try {
    return gateSpecsFromFile(content);
  } catch (error) {
    throw new InputError(`invalid gates file${error instanceof ZodError ? ` at ${describeFirstIssue(error)}` : ''}`, {
      file: resolve(file),
      hint: '{"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}}',
    });
  }
}

/** The gates a bundle was built with, from its manifest's recorded options (what `verify` checks). */
export function gatesFromManifest(task: string, manifest: Manifest): Gate[] {
  const options = manifest.options as { fp32Tolerance?: number; int8Top1?: number; gates?: GateSpec[] };
  return gatesForTask(
    task,
    options.fp32Tolerance ?? DEFAULTS.fp32Tolerance,
    options.int8Top1 ?? DEFAULTS.int8Top1,
    options.gates ?? [],
  );
}
