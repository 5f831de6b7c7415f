import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFAULTS, INT8_MODES, type Int8Mode } from '../config/options.js';
import { GateError, InputError } from '../errors.js';
import type { OnnxFile } from '../onnx/model-file.js';
import type { QuantizeOptions } from '../quantize/options.js';
import type { QuantizeResult } from '../quantize/quantize-model.js';
import type { TokenizedBatch } from '../verify/onnx-session.js';
import { shuffled } from '../verify/samples.js';
import { defineCommand, flag, print, valued } from './command.js';
import {
  buildQuantizeOptions,
  INT8_BUDGET_OPTION,
  numberOption,
  OUTPUT_OPTIONS,
  QUANTIZE_OPTIONS,
} from './shared-options.js';

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
    throw new InputError(
      '--int8 auto needs calibration texts: --samples <file> and --tokenizer <dir with tokenizer.json>',
      {
        hint: `without texts these methods are available: ${INT8_MODES.filter((m) => m !== 'auto').join(', ')}`,
      },
    );
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
    batches.push({
      inputIds: { dtype: 'int64', shape, data: encoded.inputIds },
      attentionMask: { dtype: 'int64', shape, data: encoded.attentionMask },
    });
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
  // imported here, not at the top, so that `rapidfit-export --help` does not load the quantizer
  const [
    { readOnnx },
    { quantizeModel },
    { autoBaseOptions, calibrationTarget, fixedMethodOptions, INT8_SPEED_GOAL },
    { toolVersion },
  ] = await Promise.all([
    import('../onnx/model-file.js'),
    import('../quantize/quantize-model.js'),
    import('../pipeline/int8-step.js'),
    import('../environment.js'),
  ]);
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
  if (texts.length < 2)
    throw new InputError('auto needs at least two calibration texts (half tune the choice, half judge it)', {
      file: resolve(input.samples!),
    });
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
    const result = await quantizeModel(
      source,
      out,
      { ...base, matmul: choice.chosen.base, nodeMethods: choice.chosen.nodeMethods },
      toolVersion(),
    );
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

/** `rapidfit-export quantize <in.onnx>`: any ONNX file, no Python. */
export const quantizeCommand = defineCommand({
  name: 'quantize',
  usage: '<in.onnx>',
  summary: 'INT8 quantization of any ONNX file (no Python)',
  description: `Quantize the weights of an ONNX file to INT8 (MatMul, Gemm as MatMul, Gather), with ONNX Runtime's
quantize_dynamic semantics by default, in TypeScript: no Python.`,
  options: {
    out: valued('<file>', 'the INT8 graph (default: <in>_int8.onnx beside the input)', { short: 'o' }),
    int8: valued(
      '<method>',
      "dynamic (default without texts; ORT's, bit-exact), per-token, weight-only,\nweight-only-10, weight-only-12, or auto (default with --samples): needs --samples <f> and --tokenizer <dir>;\nhalf the texts choose, the other half judge against --int8-top1",
    ),
    samples: valued('<file>', 'auto: calibration texts, .txt (one per line) or .jsonl (a "text" per line)'),
    tokenizer: valued('<dir>', "auto: the directory with the model's tokenizer.json"),
    'max-length': valued('<n>', `auto: tokenizer max_length for the texts (default ${DEFAULTS.maxLength})`),
    'int8-top1': valued(
      '<x>',
      `auto: top-1 agreement with the FP32 graph the judged half must reach (default ${DEFAULTS.int8Top1})`,
    ),
    ...INT8_BUDGET_OPTION,
    'external-data': flag('store the weights in <out>_weights.bin (automatic past 2 GB)'),
    ...QUANTIZE_OPTIONS,
    ...OUTPUT_OPTIONS,
  },
  maxPositionals: 1,
  required: { missing: 'quantize needs an ONNX file', hint: 'rapidfit-export quantize model.onnx -o model_int8.onnx' },
  async run({ positionals: [input = ''], values }) {
    const result = await runQuantizeCommand({
      input,
      ...(values.out ? { out: values.out } : {}),
      ...(values.int8 ? { int8: values.int8 } : {}),
      options: buildQuantizeOptions(values, 'quantize'),
      ...(values.samples ? { samples: values.samples } : {}),
      ...(values.tokenizer ? { tokenizer: values.tokenizer } : {}),
      maxLength: numberOption(values, 'max-length', DEFAULTS.maxLength),
      budget: numberOption(values, 'int8-budget', DEFAULTS.int8Budget),
      int8Top1: numberOption(values, 'int8-top1', DEFAULTS.int8Top1),
      onProgress: (message) => {
        if (!values.json) process.stderr.write(`  ${message}\n`);
      },
    });
    const count = (counts: Record<string, number | undefined>) =>
      Object.entries(counts)
        .map(([name, n]) => `${n} ${name}`)
        .join(', ');
    const summary = `${result.file}: ${count(result.quantizedNodes)} quantized (${result.quantizedWeights} weights; MatMuls: ${count(result.methods)}) in ${result.seconds.toFixed(1)} s; ${(result.bytes / 1e6).toFixed(1)} MB${
      Object.keys(result.unsupported).length > 0
        ? `; left in float (not implemented): ${count(result.unsupported)}`
        : ''
    }${
      result.judged
        ? `\n  judged half of the texts, top-1 agreement with FP32: ${Object.entries(result.judged)
            .map(([name, v]) => `${name} ${(v * 100).toFixed(2)}%`)
            .join(', ')}`
        : ''
    }${
      result.speedupBatch1 ? `; ${result.speedupBatch1.toFixed(2)}x FP32 speed at batch 1` : ''
    }${result.note ? `\n  ${result.note}` : ''}`;
    print(values.json, { ...result, peakRssBytes: process.resourceUsage().maxRSS * 1024 }, summary);
  },
});
