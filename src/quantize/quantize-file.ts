import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { toolVersion } from '../environment.js';
import { GateError, InputError } from '../errors.js';
import { readOnnx, type OnnxFile } from '../onnx/model-file.js';
import type { TokenizedBatch } from '../onnx/session.js';
import { shuffled } from '../samples/order.js';
import { compareOutputs } from './auto/agreement.js';
import { chooseInt8, type Int8Choice } from './auto/search.js';
import { lengthQuantiles } from './auto/speed.js';
import type { QuantizeOptions } from './options.js';
import {
  autoBaseOptions,
  fixedMethodOptions,
  INT8_MODES,
  MAX_SIZE_SHARE,
  SAMPLE_SEED,
  type Int8Mode,
} from './policy.js';
import { writeQuantizedGraph, type QuantizeResult } from './quantize-model.js';
import { lengthSortedBatches } from '../predict/batches.js';

/** What `rapidfit-export quantize` and the library's `quantizeModel` do: any ONNX file, no Python. */
export interface QuantizeFileInput {
  input: string;
  out?: string;
  /** Default: auto with texts, dynamic (ORT's, bit-exact) without. */
  int8?: Int8Mode;
  options: QuantizeOptions;
  /** auto: the calibration texts (already read), and the directory of the tokenizer that encodes them. */
  texts?: { source: string; texts: string[] };
  tokenizer?: string;
  maxLength: number;
  budget: number;
  /** auto: the serving batch size the choice's speed is measured at (beside batch 1). */
  batchSize: number;
  int8Top1: number;
  onProgress: (message: string) => void;
}

export interface QuantizeFileResult extends QuantizeResult {
  mode: Int8Mode;
  seconds: number;
  /** auto: the agreement with FP32 on the judged half of the texts, per output. */
  judged?: Record<string, number>;
  calibration?: Record<string, number>;
  speedupBatch1?: number;
  /** auto: how the choice came about (its trials, outcome and speed at the texts' lengths). */
  choice?: Omit<Int8Choice, 'graph' | 'fp32Logits' | 'errors'>;
}

const BATCH = 16;

function modeOf(input: QuantizeFileInput): Int8Mode {
  const mode = input.int8 ?? (input.texts ? 'auto' : 'dynamic');
  if (mode === 'auto' && (!input.texts || !input.tokenizer)) {
    throw new InputError(
      '--int8 auto needs calibration texts: --samples <file> and --tokenizer <dir with tokenizer.json>',
      { hint: `without texts these methods are available: ${INT8_MODES.filter((m) => m !== 'auto').join(', ')}` },
    );
  }
  return mode;
}

async function tokenizeTexts(tokenizerDir: string, texts: string[], maxLength: number): Promise<TokenizedBatch[]> {
  const { TextTokenizer } = await import('../tokenizer/tokenizer.js');
  const tokenizer = TextTokenizer.load(tokenizerDir);
  const batches: TokenizedBatch[] = [];
  for (const indices of lengthSortedBatches(
    texts.map((text) => text.length),
    BATCH,
  )) {
    const encoded = await tokenizer.encode(
      indices.map((index) => texts[index]!),
      maxLength,
    );
    const shape = [encoded.rows, encoded.width];
    batches.push({
      inputIds: { dtype: 'int64', shape, data: encoded.inputIds },
      attentionMask: { dtype: 'int64', shape, data: encoded.attentionMask },
    });
  }
  return batches;
}

/** Every graph output: what agreement is measured on. */
function logitOutputs(source: OnnxFile): Record<string, string> {
  return Object.fromEntries((source.model.graph!.output ?? []).map((output) => [output.name ?? '', output.name ?? '']));
}

function outputFile(input: QuantizeFileInput, source: OnnxFile): string {
  const out = resolve(input.out ?? input.input.replace(/(\.onnx)?$/, '_int8.onnx'));
  if (out === source.file) throw new InputError('the output would overwrite the input', { file: out });
  if (!existsSync(dirname(out))) throw new InputError('the output directory does not exist', { file: dirname(out) });
  return out;
}

/** Half the texts (seeded) choose the graph, the other half judge it against the FP32 graph. */
async function splitTexts(
  input: QuantizeFileInput,
): Promise<{ calibration: TokenizedBatch[]; judged: TokenizedBatch[] }> {
  const { source, texts: given } = input.texts!;
  const texts = shuffled(given, SAMPLE_SEED);
  if (texts.length < 2) {
    throw new InputError('auto needs at least two calibration texts (half tune the choice, half judge it)', {
      file: source,
    });
  }
  const half = Math.floor(texts.length / 2);
  const tokenizer = resolve(input.tokenizer!);
  return {
    calibration: await tokenizeTexts(tokenizer, texts.slice(0, half), input.maxLength),
    judged: await tokenizeTexts(tokenizer, texts.slice(half), input.maxLength),
  };
}

function judgedGateError(summary: QuantizeFileResult, gate: number, out: string): GateError | undefined {
  const failing = Object.entries(summary.judged ?? {}).filter(([, value]) => value < gate);
  if (failing.length === 0) return undefined;
  const described = failing.map(
    ([name, value]) => `${name} top-1 agreement ${(value * 100).toFixed(2)}% < ${(gate * 100).toFixed(1)}%`,
  );
  const error = new GateError(`INT8 gate failed on the judged half of the texts: ${described.join('; ')}`, {
    file: out,
    hint: 'the graph was written so you can inspect it; try more calibration texts or --int8-budget',
  });
  error.payload = summary;
  return error;
}

/** Tokens per text of the batches (their attention masks), ascending. */
function tokenLengths(batches: readonly TokenizedBatch[]): number[] {
  const lengths: number[] = [];
  for (const { attentionMask } of batches) {
    const [rows = 0, width = 0] = attentionMask.shape;
    for (let row = 0; row < rows; row += 1) {
      let tokens = 0;
      for (let col = 0; col < width; col += 1) tokens += Number(attentionMask.data[row * width + col]);
      lengths.push(tokens);
    }
  }
  return lengths.sort((a, b) => a - b);
}

async function chooseOnTexts(
  input: QuantizeFileInput,
  source: OnnxFile,
  calibration: TokenizedBatch[],
  workDir: string,
): Promise<Int8Choice> {
  const outputs = logitOutputs(source);
  return chooseInt8({
    fp32: source,
    outputs,
    gates: Object.fromEntries(Object.keys(outputs).map((name) => [name, input.int8Top1])),
    batches: calibration,
    options: autoBaseOptions(input.options),
    workDir,
    budget: input.budget,
    maxSizeShare: MAX_SIZE_SHARE,
    speed: { ...lengthQuantiles(tokenLengths(calibration)), batchSize: input.batchSize, maxLength: input.maxLength },
    onProgress: input.onProgress,
  });
}

/**
 * Quantizes one ONNX file: one method for the whole graph, or `auto` on calibration texts (half of
 * them tune the choice, the other half judge it against the FP32 graph: GateError below int8Top1,
 * with the graph written so it can be inspected).
 */
export async function quantizeFile(input: QuantizeFileInput): Promise<QuantizeFileResult> {
  const mode = modeOf(input);
  const source = await readOnnx(resolve(input.input));
  const out = outputFile(input, source);
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  if (mode !== 'auto') {
    const result = await writeQuantizedGraph(source, out, fixedMethodOptions(mode, input.options), toolVersion());
    return { ...result, mode, seconds: seconds() };
  }
  const { calibration, judged } = await splitTexts(input);
  const workDir = await mkdtemp(join(tmpdir(), 'rapidfit-quantize-'));
  try {
    const choice = await chooseOnTexts(input, source, calibration, workDir);
    const options = {
      ...autoBaseOptions(input.options),
      matmul: choice.chosen.base,
      nodeMethods: choice.chosen.nodeMethods,
    };
    const result = await writeQuantizedGraph(source, out, options, toolVersion());
    const summary: QuantizeFileResult = {
      ...result,
      mode,
      seconds: seconds(),
      judged: await compareOutputs(source.file, out, logitOutputs(source), judged),
      calibration: choice.chosen.agreement,
      ...(choice.chosen.speedup !== undefined ? { speedupBatch1: choice.chosen.speedup } : {}),
      choice: (({ graph: _graph, fp32Logits: _logits, errors: _errors, ...facts }) => facts)(choice),
    };
    const failed = judgedGateError(summary, input.int8Top1, out);
    if (failed) throw failed;
    return summary;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
