/** Every file name of a bundle, in one module: the pipeline, the manifest, `verify` and `predict` use these. */
export const MANIFEST_FILE = 'manifest.json';
export const VERIFICATION_FILE = 'verification.json';
export const REPORT_JSON_FILE = 'parity-report.json';
export const REPORT_MARKDOWN_FILE = 'parity-report.md';
export const REPORT_HTML_FILE = 'parity-report.html';
export const TOKENIZER_DIR = 'tokenizer';
/** The stem of the shared-encoder graph with one output per task (bundles with two or more tasks). */
export const MULTIHEAD_STEM = 'multihead';

/** <task>_config.json: RapidFit's keys plus what a runtime needs. */
export function taskConfigFile(task: string): string {
  return `${task}_config.json`;
}

/** A graph file: `<stem><suffix>.onnx` (sentiment.onnx, sentiment_int8.onnx, multihead_fp16.onnx). */
export function graphFileName(stem: string, suffix: string): string {
  return `${stem}${suffix}.onnx`;
}
