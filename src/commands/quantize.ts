import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { INT8_MODES, type Int8Mode } from '../config/options.js';
import { toolVersion } from '../environment.js';
import { GateError, InputError } from '../errors.js';
import { readOnnx, type OnnxFile } from '../onnx/model-file.js';
import { autoBaseOptions, calibrationTarget, fixedMethodOptions, INT8_SPEED_GOAL } from '../pipeline/int8-step.js';
import type { QuantizeOptions } from '../quantize/options.js';
import { quantizeModel, type QuantizeResult } from '../quantize/quantize-model.js';
import type { TokenizedBatch } from '../verify/onnx-session.js';
import { shuffled } from '../verify/samples.js';

export interface QuantizeCommandInput {
  input: string;
  out?: string;
  int8?: string;
  options: QuantizeOptions;
  samples?: string;
  tokenizer?: string;
  maxLength: number;
  budget: number;
  int8Top1: number;
  onProgress: (message: string) => void;
}

export interface QuantizeCommandResult extends QuantizeResult {
  mode: Int8Mode;
  seconds: number;
  /** auto: the agreement with FP32 on the judged half of --samples, per output. */
  judged?: Record<string, number>;
  calibration?: Record<string, number>;
  speedupBatch1?: number;
  note?: string;
}

const CALIBRATION_SEED = 20251125;
const BATCH = 16;

/** The int8 mode: --int8 when given; otherwise auto with calibration texts, dynamic (ORT's, bit-exact) without. */
function modeOf(input: QuantizeCommandInput): Int8Mode {
  if (input.int8 === undefined) return input.samples ? 'auto' : 'dynamic';
  if (!(INT8_MODES as readonly string[]).includes(input.int8)) {
    throw new InputError(`--int8 must be one of ${INT8_MODES.join(', ')}, got "${input.int8}"`);
  }
  const mode = input.int8 as Int8Mode;
  if (mode === 'auto' && (!input.samples || !input.tokenizer)) {
    throw new InputError('--int8 auto needs calibration texts: --samples <file> and --tokenizer <dir with tokenizer.json>', {
      hint: `without texts these methods are available: ${INT8_MODES.filter((m) => m !== 'auto').join(', ')}`,
    });
  }
  return mode;
}

async function tokenizeTexts(tokenizerDir: string, texts: string[], maxLength: number): Promise<TokenizedBatch[]> {
  const { TextTokenizer } = await import('../tokenizer/tokenizer.js');
  const tokenizer = TextTokenizer.load(tokenizerDir);
  const sorted = [...texts].sort((a, b) => a.length - b.length);
  const batches: TokenizedBatch[] = [];
  for (let start = 0; start < sorted.length; start += BATCH) {
    const encoded = await tokenizer.encode(sorted.slice(start, start + BATCH), maxLength);
    const shape = [encoded.rows, encoded.width];
    batches.push({ inputIds: { dtype: 'int64', shape, data: encoded.inputIds }, attentionMask: { dtype: 'int64', shape, data: encoded.attentionMask } });
  }
  return batches;
}

/** Every graph output that is [batch, labels] float: what agreement is measured on. */
function logitOutputs(source: OnnxFile): Record<string, string> {
  return Object.fromEntries((source.model.graph!.output ?? []).map((output) => [output.name ?? '', output.name ?? '']));
}

/**
 * `rapidfit-export quantize`: one method for the whole graph, or `auto` on calibration texts
 * (half of --samples tunes the choice, the other half judges it against the FP32 graph).
 */
export async function runQuantizeCommand(input: QuantizeCommandInput): Promise<QuantizeCommandResult> {
  const mode = modeOf(input);
  const source = await readOnnx(resolve(input.input));
  const out = resolve(input.out ?? input.input.replace(/(\.onnx)?$/, '_int8.onnx'));
  if (out === source.file) throw new InputError('the output would overwrite the input', { file: out });
  if (!existsSync(dirname(out))) throw new InputError('the output directory does not exist', { file: dirname(out) });
  const started = performance.now();
  if (mode !== 'auto') {
    const result = await quantizeModel(source, out, fixedMethodOptions(mode, input.options), toolVersion());
    return { ...result, mode, seconds: (performance.now() - started) / 1000 };
  }
  const { readTextsFile } = await import('../predict/input-file.js');
  const { chooseInt8, MAX_SIZE_SHARE } = await import('../quantize/auto/search.js');
  const { compareOutputs } = await import('../quantize/auto/agreement.js');
  const texts = shuffled(await readTextsFile(resolve(input.samples!)), CALIBRATION_SEED);
  if (texts.length < 2) throw new InputError('auto needs at least two calibration texts (half tune the choice, half judge it)', { file: resolve(input.samples!) });
  const half = Math.floor(texts.length / 2);
  const calibration = await tokenizeTexts(resolve(input.tokenizer!), texts.slice(0, half), input.maxLength);
  const judged = await tokenizeTexts(resolve(input.tokenizer!), texts.slice(half), input.maxLength);
  const outputs = logitOutputs(source);
  const workDir = await mkdtemp(join(tmpdir(), 'rapidfit-quantize-'));
  try {
    const base = autoBaseOptions(input.options);
    const choice = await chooseInt8({
      fp32: source,
      outputs,
      targets: Object.fromEntries(Object.keys(outputs).map((name) => [name, calibrationTarget(input.int8Top1)])),
      gates: Object.fromEntries(Object.keys(outputs).map((name) => [name, input.int8Top1])),
      batches: calibration,
      options: base,
      workDir,
      budget: input.budget,
      speedGoal: INT8_SPEED_GOAL,
      maxSizeShare: MAX_SIZE_SHARE,
      onProgress: input.onProgress,
    });
    const result = await quantizeModel(source, out, { ...base, matmul: choice.chosen.base, nodeMethods: choice.chosen.nodeMethods }, toolVersion());
    const judgedAgreement = await compareOutputs(source.file, out, outputs, judged);
    const summary: QuantizeCommandResult = {
      ...result,
      mode,
      seconds: (performance.now() - started) / 1000,
      judged: judgedAgreement,
      calibration: choice.chosen.agreement,
      ...(choice.chosen.speedup !== undefined ? { speedupBatch1: choice.chosen.speedup } : {}),
      ...(choice.note ? { note: choice.note } : {}),
    };
    const failing = Object.entries(judgedAgreement).filter(([, value]) => value < input.int8Top1);
    if (failing.length > 0) {
      const error = new GateError(
        `INT8 gate failed on the judged half of the texts: ${failing.map(([name, value]) => `${name} top-1 agreement ${(value * 100).toFixed(2)}% < ${(input.int8Top1 * 100).toFixed(1)}%`).join('; ')}`,
        { file: out, hint: 'the graph was written so you can inspect it; try more calibration texts or --int8-budget' },
      );
      error.payload = summary;
      throw error;
    }
    return summary;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
