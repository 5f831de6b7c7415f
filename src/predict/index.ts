/** Predicting from a bundle in Node: `const bundle = await loadBundle(dir); await bundle.predict(texts); await bundle.close();` */
export {
  DEFAULT_BATCH_SIZE,
  loadBundle,
  type LoadBundleOptions,
  type LoadedBundle,
  type Prediction,
  type PredictOptions,
  type TextPredictions,
  type Variant,
} from './bundle.js';
export { VARIANTS, type BundleTask } from './task-files.js';
