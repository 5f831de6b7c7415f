import { graphFileName, MULTIHEAD_STEM } from './files.js';

/** The metrics a gate can hold, and the name --gate / --gates-file give each. */
export const GATE_METRICS = {
  maxAbsDiff: { key: 'max_abs', op: '<=' },
  top1Agreement: { key: 'top1', op: '>=' },
  /** PyTorch's accuracy minus the graph's, on the labelled judged texts (opt-in; needs gold labels). */
  accuracyDrop: { key: 'accuracy_drop', op: '<=' },
} as const;
export type GateMetric = keyof typeof GATE_METRICS;
export type GateOp = (typeof GATE_METRICS)[GateMetric]['op'];

/** A variant's default gate; `option` names the export option that sets its limit, if one does. */
interface DefaultGate {
  metric: GateMetric;
  limit: number;
  option?: 'fp32Tolerance' | 'int8Top1';
}

/** What a bundle may hold of one model graph: its numeric variants. */
export interface VariantPlan {
  /** Upper-case name for titles: FP32, INT8, FP16. */
  title: string;
  /** Appended to the graph's stem: sentiment.onnx, sentiment_int8.onnx, multihead_fp16.onnx. */
  suffix: string;
  /** Its keys in a manifest task entry and in the manifest's multihead entry. */
  manifest: { graph: 'fp32' | 'int8' | 'fp16'; weights: 'weights' | 'int8Weights' | 'fp16Weights' };
  gates: readonly DefaultGate[];
  /** Tuned on the calibration split: results there are reported apart and never gated. */
  calibrated: boolean;
}

export const VARIANTS = ['fp32', 'int8', 'fp16'] as const;
export type Variant = (typeof VARIANTS)[number];

export const VARIANT_PLANS: Readonly<Record<Variant, VariantPlan>> = {
  fp32: {
    title: 'FP32',
    suffix: '',
    manifest: { graph: 'fp32', weights: 'weights' },
    gates: [{ metric: 'maxAbsDiff', limit: 1e-4, option: 'fp32Tolerance' }],
    calibrated: false,
  },
  int8: {
    title: 'INT8',
    suffix: '_int8',
    manifest: { graph: 'int8', weights: 'int8Weights' },
    gates: [{ metric: 'top1Agreement', limit: 0.99, option: 'int8Top1' }],
    calibrated: true,
  },
  fp16: {
    title: 'FP16',
    suffix: '_fp16',
    manifest: { graph: 'fp16', weights: 'fp16Weights' },
    gates: [
      { metric: 'maxAbsDiff', limit: 1e-2 },
      { metric: 'top1Agreement', limit: 0.999 },
    ],
    calibrated: false,
  },
};

/** A variant's default limit of a metric: the single source of the gates' defaults (the export options' too). */
export function defaultLimit(variant: Variant, metric: GateMetric): number {
  const gate = VARIANT_PLANS[variant].gates.find((g) => g.metric === metric);
  if (!gate) throw new Error(`the ${variant} plan has no default ${metric} gate`);
  return gate.limit;
}

export function isVariant(value: string): value is Variant {
  return (VARIANTS as readonly string[]).includes(value);
}

/** A task's (or the multihead graph's) file of one variant: `<stem><suffix>.onnx`. */
export function variantGraphFile(stem: string, variant: Variant): string {
  return graphFileName(stem, VARIANT_PLANS[variant].suffix);
}

export function multiheadFile(variant: Variant): string {
  return variantGraphFile(MULTIHEAD_STEM, variant);
}

/** The comparison the multihead graph's outputs count in: "multihead-fp32", "multihead-int8", ... */
export function multiheadComparison(variant: Variant): string {
  return `multihead-${variant}`;
}

/** The variant a comparison key is about ("int8", "multihead-int8", "int8-calibration"), if any. */
export function comparisonVariant(comparison: string): Variant | undefined {
  const base = comparison.replace(/^multihead-/, '').replace(/-(calibration|embedded)$/, '');
  return isVariant(base) ? base : undefined;
}

/** A comparison's title in the report: "FP16 ONNX vs PyTorch", "multihead_fp16.onnx vs PyTorch". */
export function comparisonTitle(comparison: string): string {
  const variant = comparisonVariant(comparison);
  if (!variant) return comparison === 'pytorch' ? 'PyTorch' : comparison;
  const plan = VARIANT_PLANS[variant];
  const graph = comparison.startsWith('multihead-')
    ? `${multiheadFile(variant)}${plan.suffix === '' ? ` (${plan.title})` : ''}`
    : `${plan.title} ONNX`;
  const split = comparison.endsWith('-calibration')
    ? ', calibration split (tuned on, not gated)'
    : comparison.endsWith('-embedded')
      ? ', embedded texts (for information, not gated)'
      : '';
  return `${graph} vs PyTorch${split}`;
}
