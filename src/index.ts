/**
 * rapidfit-export as a library: export a model into a verified bundle, quantize an ONNX file, verify a
 * bundle, predict with a bundle in Node. Nothing here prints or exits: failures are thrown ToolError
 * subclasses (InputError: exit code 2 in the CLI, GateError: 3, EnvironmentError: 4).
 *
 *     const bundle = await loadBundle(dir, { variant: 'int8' });
 *     const predictions = await bundle.predict(texts, { tasks });
 *     await bundle.close();
 */
export { exportModel, type ExportModelOptions, type ExportResult, type GateSpec } from './api/export-model.js';
export { quantizeModel, type QuantizeModelOptions, type QuantizeModelResult } from './api/quantize-model.js';
export type { QuantizeOptions } from './quantize/options.js';
export { verifyBundle, type BundleVerification, type VerifyBundleOptions } from './api/verify-bundle.js';
export {
  compareBundles,
  type AccuracyChange,
  type ChangedText,
  type CompareBundlesOptions,
  type CompareResult,
  type LabelMatch,
  type ReleaseSummary,
  type TaskVariantComparison,
  type TaskVariantMetrics,
  type VariantLatency,
} from './api/compare-bundles.js';
export {
  loadBundle,
  type BundleTask,
  type LoadBundleOptions,
  type LoadedBundle,
  type Prediction,
  type PredictOptions,
  type TextPredictions,
  type Variant,
} from './predict/index.js';
export {
  EnvironmentError,
  ExitCode,
  GateError,
  InputError,
  ToolError,
  type ErrorDetails,
  type ExitCodeValue,
} from './errors.js';
export type { Manifest } from './config/manifest.js';
