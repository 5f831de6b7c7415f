/** Predicting from a bundle in Node: `const bundle = await loadBundle(dir); await bundle.predict(texts); await bundle.close();` */
export {
  loadBundle,
  type LoadBundleOptions,
  type LoadedBundle,
  type Prediction,
  type PredictOptions,
  type TextPredictions,
  type Variant,
} from './bundle.js';
export { type BundleTask } from './task-files.js';
