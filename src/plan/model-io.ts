/**
 * The model's I/O, in one place (as Optimum's OnnxConfig): what every exported graph takes and gives.
 * Export, the config files, verification, `verify` and `predict` read it; python-bridge's
 * `rapidfit_bridge/model_io.py` holds the same names for the exporter (test/unit/plan.test.ts checks
 * that both agree).
 */
interface TensorIO {
  name: string;
  dtype: 'int64' | 'float32';
  /** Axis index -> symbolic (dynamic) dimension name. */
  dynamicAxes: Readonly<Record<number, string>>;
}

const BATCH = 'batch';
const SEQUENCE = 'sequence';

const MODEL_IO = {
  /** Token ids and mask, [batch, sequence], in this order (the tokenizer returns exactly these). */
  inputs: [
    { name: 'input_ids', dtype: 'int64', dynamicAxes: { 0: BATCH, 1: SEQUENCE } },
    { name: 'attention_mask', dtype: 'int64', dynamicAxes: { 0: BATCH, 1: SEQUENCE } },
  ],
  /** A task graph's one output: [batch, num_labels] (RapidFit's name). */
  output: { name: 'logits', dtype: 'float32', dynamicAxes: { 0: BATCH } },
} as const satisfies { inputs: readonly TensorIO[]; output: TensorIO };

export type InputName = (typeof MODEL_IO.inputs)[number]['name'];

export const INPUT_NAMES: readonly InputName[] = MODEL_IO.inputs.map((input) => input.name);
export const OUTPUT_NAME = MODEL_IO.output.name;

/** The multihead graph's output for a task: one per task, same shape as `logits`. */
export function multiheadOutput(task: string): string {
  return `${task}_${OUTPUT_NAME}`;
}

/** dynamic_axes as <task>_config.json records them (string axis keys), for the inputs and `output`. */
export function dynamicAxes(output: string = OUTPUT_NAME): Record<string, Record<string, string>> {
  const axes = (io: TensorIO) => Object.fromEntries(Object.entries(io.dynamicAxes));
  return {
    ...Object.fromEntries(MODEL_IO.inputs.map((input) => [input.name, axes(input)])),
    [output]: axes(MODEL_IO.output),
  };
}

/** A tokenized batch's tensors by graph input name (the one place that pairs the two namings). */
export function byInputName<T>(batch: { inputIds: T; attentionMask: T }): Record<InputName, T> {
  return { input_ids: batch.inputIds, attention_mask: batch.attentionMask };
}
