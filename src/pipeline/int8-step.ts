import { basename, join } from 'node:path';
import { deriveTaskGraphs } from '../export/derive.js';
import { writeMultiheadGraph } from '../export/multihead.js';
import { readOnnx, type ExternalDataMode, type OnnxFile, type WrittenOnnx } from '../onnx/model-file.js';
import { multiheadFile, variantGraphFile } from '../plan/variants.js';
import type { OutputLogits } from '../quantize/auto/agreement.js';
import { chooseInt8, type Int8Choice } from '../quantize/auto/search.js';
import type { SpeedProfile } from '../quantize/auto/speed.js';
import { int8Note } from '../report/int8-note.js';
import {
  autoBaseOptions,
  fixedMethodOptions,
  INT8_SPEED_GOAL,
  MAX_SIZE_SHARE,
  type Int8Mode,
} from '../quantize/policy.js';
import type { QuantizeOptions } from '../quantize/options.js';
import { writeQuantizedGraph } from '../quantize/quantize-model.js';
import { referenceLogits, tokenizedBatch, type StoredBatch } from '../verify/stored-batch.js';

export interface Int8StepInput {
  mode: Int8Mode;
  options: QuantizeOptions;
  budget: number;
  /** The exported multihead graph (every task's output) and each task's output name in it. */
  exportedMultihead: string;
  outputs: Record<string, string>;
  /** task -> FP32 graph in the staging dir (a fixed method quantizes each, as ORT would). */
  fp32: Record<string, string>;
  /** Each task's INT8 graph's metadata_props (its config, as its FP32 graph has them). */
  taskMetadata: (task: string) => Record<string, string>;
  /** multihead_int8.onnx's metadata_props, when the bundle has a multihead graph. */
  multiheadMetadata?: Record<string, string>;
  externalData: ExternalDataMode;
  stagingDir: string;
  workDir: string;
  /** task -> the INT8 top-1 gate; the calibration split must do better (policy's calibrationFlips). */
  gates: Record<string, number>;
  /** The texts' token lengths and the serving batch size: where auto measures speed. */
  speed: SpeedProfile;
  reference: readonly StoredBatch[];
  version: string;
  onProgress: (message: string) => void;
}

interface Int8Graph {
  file: string;
  dataFile?: string;
  bytes: number;
}

export interface Int8StepResult {
  graphs: Record<string, Int8Graph>;
  /** multihead_int8.onnx, when a multihead graph was given. */
  multihead?: Int8Graph;
  /** The options every task's INT8 graph was written with. */
  options: QuantizeOptions;
  choice?: Int8Choice;
  /** One line about auto's choice, when it needs saying (src/report/int8-note.ts). */
  note?: string;
  /** When multihead_int8.onnx is cut from the chosen trial graph: that graph's logits on the calibration batches, per task. */
  calibrationLogits?: OutputLogits;
}

async function writeInt8(fp32: OnnxFile, out: string, options: QuantizeOptions, version: string): Promise<Int8Graph> {
  const result = await writeQuantizedGraph(fp32, out, options, version);
  return { file: out, bytes: result.bytes, ...(result.dataFile ? { dataFile: basename(result.dataFile) } : {}) };
}

function int8Graph(written: WrittenOnnx): Int8Graph {
  return {
    file: written.file,
    bytes: written.protobufBytes + written.dataBytes,
    ...(written.dataFile ? { dataFile: basename(written.dataFile) } : {}),
  };
}

/** auto: the chosen mix, judged against PyTorch's logits on the calibration split (no FP32 pass needed). */
async function chooseAuto(input: Int8StepInput): Promise<{ choice: Int8Choice; options: QuantizeOptions }> {
  const calibration = input.reference.filter((batch) => batch.split === 'calibration');
  const base = autoBaseOptions(input.options);
  const choice = await chooseInt8({
    fp32: await readOnnx(input.exportedMultihead),
    outputs: input.outputs,
    gates: input.gates,
    batches: calibration.map(tokenizedBatch),
    reference: Object.fromEntries(
      Object.keys(input.outputs).map((task) => [task, calibration.map((batch) => referenceLogits(batch, task))]),
    ),
    options: base,
    workDir: input.workDir,
    budget: input.budget,
    maxSizeShare: MAX_SIZE_SHARE,
    speed: input.speed,
    version: input.version,
    onProgress: input.onProgress,
  });
  return { choice, options: { ...base, matmul: choice.chosen.base, nodeMethods: choice.chosen.nodeMethods } };
}

/**
 * A fixed method quantizes each task's FP32 graph, so that `dynamic` writes exactly what ORT's
 * quantize_dynamic writes for that file (cut from the multihead graph, 4 internal value names would differ).
 */
async function quantizeEachTask(input: Int8StepInput, options: QuantizeOptions): Promise<Record<string, Int8Graph>> {
  const graphs: Record<string, Int8Graph> = {};
  for (const [task, file] of Object.entries(input.fp32)) {
    input.onProgress(`writing ${variantGraphFile(task, 'int8')}`);
    const out = join(input.stagingDir, variantGraphFile(task, 'int8'));
    graphs[task] = await writeInt8(await readOnnx(file), out, options, input.version);
  }
  return graphs;
}

/** Each task's INT8 graph cut from the INT8 multihead graph (its subgraph for the task's output, same weights). */
async function cutEachTask(input: Int8StepInput, int8Multihead: string): Promise<Record<string, Int8Graph>> {
  input.onProgress('writing one INT8 graph per task');
  const { outputs, stagingDir, taskMetadata, externalData } = input;
  const derived = await deriveTaskGraphs(int8Multihead, outputs, stagingDir, taskMetadata, externalData, 'int8');
  return Object.fromEntries(derived.map((graph) => [graph.task, int8Graph(graph)]));
}

/**
 * Writes <task>_int8.onnx for every task (and multihead_int8.onnx). The exported multihead graph is quantized once
 * (`auto`: the chosen trial's graph, as measured on the calibration split); multihead_int8.onnx is cut
 * from it, and with `auto` so is every task's INT8 graph. A fixed method quantizes each task's FP32
 * graph with the same options.
 */
export async function runInt8Step(input: Int8StepInput): Promise<Int8StepResult> {
  const auto = input.mode === 'auto' ? await chooseAuto(input) : undefined;
  const options = auto?.options ?? fixedMethodOptions(input.mode as Exclude<Int8Mode, 'auto'>, input.options);
  // the INT8 multihead graph, when something is cut from it: auto's chosen graph, else the exported multihead graph quantized once
  let int8Multihead = auto?.choice.graph?.file;
  if (!int8Multihead && (auto || input.multiheadMetadata)) {
    input.onProgress('quantizing the exported multihead graph');
    const out = join(input.workDir, 'multihead-int8-work.onnx');
    int8Multihead = (await writeInt8(await readOnnx(input.exportedMultihead), out, options, input.version)).file;
  }
  const graphs = auto ? await cutEachTask(input, int8Multihead!) : await quantizeEachTask(input, options);
  let multihead: Int8Graph | undefined;
  if (input.multiheadMetadata) {
    input.onProgress(`writing ${multiheadFile('int8')}`);
    const { outputs, stagingDir, multiheadMetadata, externalData } = input;
    multihead = int8Graph(
      await writeMultiheadGraph(int8Multihead!, outputs, stagingDir, multiheadMetadata, externalData, 'int8'),
    );
  }
  const choice = auto?.choice;
  const calibrationLogits = multihead && int8Multihead === choice?.graph?.file ? choice?.graph?.logits : undefined;
  const note = choice ? int8Note(choice, INT8_SPEED_GOAL) : undefined;
  return {
    graphs,
    ...(multihead ? { multihead } : {}),
    options,
    ...(choice ? { choice } : {}),
    ...(note ? { note } : {}),
    ...(calibrationLogits ? { calibrationLogits } : {}),
  };
}
