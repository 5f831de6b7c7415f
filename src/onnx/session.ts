import ort from 'onnxruntime-node';
import type { NpyArray } from '../bridge/npy.js';
import { InputError } from '../errors.js';
import { byInputName } from '../plan/model-io.js';
import type { LogitsBatch } from '../metrics/logits.js';

export interface TokenizedBatch {
  inputIds: NpyArray;
  attentionMask: NpyArray;
}

/** A tokenized batch as onnxruntime feeds, for the graph inputs `inputNames` has (the plan's input names). */
export function inputFeeds(inputNames: readonly string[], batch: TokenizedBatch): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, array] of Object.entries(byInputName(batch))) {
    if (array.dtype !== 'int64') throw new Error(`${name} must be int64`);
    if (inputNames.includes(name)) feeds[name] = new ort.Tensor('int64', array.data, array.shape);
  }
  return feeds;
}

/** A loaded ONNX graph with the RapidFit interface (input_ids, attention_mask -> logits). */
export class ClassifierSession {
  private constructor(
    readonly file: string,
    private readonly session: ort.InferenceSession,
  ) {}

  /** Loads a graph; one onnxruntime cannot load (a corrupt or hand-edited file, an opset it lacks) is exit 2 naming it. */
  static async open(file: string): Promise<ClassifierSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0]!.replace(/^Load model from .* failed:\s*/, '');
      throw new InputError(`onnxruntime cannot load this graph: ${reason}`, { file });
    }
    return new ClassifierSession(file, session);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** The first output's logits (a per-task graph has one output, "logits"). */
  async run(batch: TokenizedBatch): Promise<LogitsBatch> {
    const outputs = await this.runAll(batch, [this.session.outputNames[0]!]);
    return Object.values(outputs)[0]!;
  }

  /** Several outputs of one run (a multihead graph: one per task), by output name. */
  async runAll(
    batch: TokenizedBatch,
    names: readonly string[] = this.session.outputNames,
  ): Promise<Record<string, LogitsBatch>> {
    const feeds = inputFeeds(this.session.inputNames, batch);
    const missing = names.filter((name) => !this.session.outputNames.includes(name));
    if (missing.length > 0)
      throw new Error(`${this.file}: no output ${missing.join(', ')} (it has ${this.session.outputNames.join(', ')})`);
    const results = await this.session.run(feeds, [...names]);
    return Object.fromEntries(
      names.map((name) => {
        const output = results[name]!;
        const [rows = 0, labels = 0] = output.dims;
        return [name, { rows, labels, data: output.data as Float32Array }];
      }),
    );
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
