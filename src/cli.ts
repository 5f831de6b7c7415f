#!/usr/bin/env node
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import type { Manifest } from './config/manifest.js';
import { fileURLToPath } from 'node:url';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ZodError } from 'zod';
import { installSignalHandlers, runAbortActions } from './cleanup.js';
import { DEFAULTS, describeFirstIssue, describeZodError, exportOptionsSchema, type ExportOptions } from './config/options.js';
import { runtimeFacts, toolVersion } from './environment.js';
import { ExitCode, formatToolError, GateError, InputError, ToolError, type ExitCodeValue } from './errors.js';
import { describeFailure, formatNumber, gateSpecsFromFile, gatesForTask, parseGateSpec, type GateSpec } from './verify/gates.js';
import { checkModelDir } from './export/model-dir.js';
import { LOCK_FILE } from './paths.js';
import { readOnnx } from './onnx/model-file.js';
import { describeOnnx, summarizeOnnx } from './onnx/describe.js';
import { DEFAULT_QUANTIZE_OPTIONS, ORT_DYNAMIC_OP_TYPES, quantizeOptionsSchema, type QuantizeOptions } from './quantize/options.js';
// the bridge (execa), the pipeline (listr2, onnxruntime-node) and bundle verification are imported
// lazily by the commands that use them, so `quantize`, `inspect <file.onnx>` and `--help` start quickly

const HELP = `rapidfit-export: turn a trained RapidFit model into a verified ONNX bundle

Usage:
  rapidfit-export <model_dir> [options]          export, quantize, verify and write the bundle
  rapidfit-export inspect <model_dir> [options]  print tasks, labels, pooling, heads, size
  rapidfit-export inspect <file.onnx>            print inputs, outputs, opsets, ops, weight bytes (no Python)
  rapidfit-export quantize <in.onnx> [-o out.onnx] [quantize options]
                                                 dynamic INT8 quantization of any ONNX file (no Python)
  rapidfit-export verify <bundle> [--json] [--junit f]
                                                 check a bundle without Python: checksums, every graph
                                                 re-run on the stored samples at the bundle's gates
  rapidfit-export predict <bundle> [text ...] [--file f] [--tasks a,b] [--variant int8|fp32] [--json]
                                                 predict labels in Node, no Python (predict --help: all options)
  rapidfit-export bridge doctor [--python P]     print the Python bridge's interpreter, versions, lock hash

Options (export):
  -o, --out <dir>          bundle directory (default: <model_dir>-onnx beside the model)
      --tasks <a,b>        export only these tasks (default: all)
      --task-name <name>   task name for a plain Hugging Face model (default: the directory name)
      --opset <n>          ONNX opset (default ${DEFAULTS.opset}; 18+ with --exporter dynamo)
      --max-length <n>     tokenizer max_length recorded in configs and used for verification (default ${DEFAULTS.maxLength})
      --exporter <name>    torchscript (default) or dynamo
      --fp32-tolerance <x> FP32 gate: max abs logit diff vs PyTorch (default ${DEFAULTS.fp32Tolerance})
      --int8-top1 <x>      INT8 gate: top-1 agreement with PyTorch (default ${DEFAULTS.int8Top1})
      --quantize <mode>    int8 (default): also write <task>_int8.onnx; none: FP32 only
      --int8 <method>      auto (default): per model, the fastest INT8 mix that keeps PyTorch's predictions on
                           calibration texts (judged on other texts); or one method for every MatMul:
                           dynamic (ORT's quantize_dynamic, bit-exact), per-token, weight-only
      --int8-budget <n>    auto: most candidate graphs to try (default ${DEFAULTS.int8Budget})
      --no-latency         skip the FP32/INT8 latency measurement of the report
      --gate <spec>        override a gate, globally or per task (repeatable):
                           [task.]fp32.max_abs=<x> or [task.]int8.top1=<x>, e.g. --gate spam.int8.top1=0.95
      --gates-file <f>     gates as JSON: {"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}}
      --junit <file>       also write the gates as JUnit XML (one test case per task and gate)
      --samples-limit <n>  verify on the first n embedded samples only
      --samples <file>     more verification texts: .txt (one per line) or .jsonl with "text" and
                           optional "labels": {"task": "label"} (gold labels give accuracy)
      --external-data      store weights in <task>_weights.bin (automatic past 2 GB)
      --force              replace an output directory that is not a previous bundle
Quantize options (also apply to the <task>_int8.onnx graphs of an export):
      --weight-type <t>    int8 (symmetric, default) or uint8 (asymmetric)
      --per-channel        one scale per output channel of each weight
      --reduce-range       7-bit weights (for CPUs without VNNI)
      --op-types <a,b>     op types to quantize (default: ONNX Runtime's: ${ORT_DYNAMIC_OP_TYPES.join(',')})
      --exclude-nodes <a,b> node names to leave in float
      --int8 <method>      quantize: dynamic (default without texts; ORT's, bit-exact), per-token, weight-only,
                           or auto (default with --samples): needs --samples <f> and --tokenizer <dir>;
                           half the texts choose, the other half judge against --int8-top1
Common:
      --python <path>      interpreter to build the bridge venv from (default: python3)
      --json               print a machine-readable result on stdout
      --no-progress        plain log lines instead of the live task list
      --verbose            forward the bridge's own log output
  -h, --help               this help
  -v, --version            the tool version

Exit codes: 0 ok, 1 internal error, 2 bad input or usage, 3 parity gate failed, 4 Python bridge or environment failure.`;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  tasks: { type: 'string' },
  'task-name': { type: 'string' },
  opset: { type: 'string' },
  'max-length': { type: 'string' },
  exporter: { type: 'string' },
  'fp32-tolerance': { type: 'string' },
  'int8-top1': { type: 'string' },
  gate: { type: 'string', multiple: true },
  'gates-file': { type: 'string' },
  junit: { type: 'string' },
  samples: { type: 'string' },
  quantize: { type: 'string' },
  int8: { type: 'string' },
  tokenizer: { type: 'string' },
  'int8-budget': { type: 'string' },
  latency: { type: 'boolean', default: true },
  'no-latency': { type: 'boolean', default: false },
  'samples-limit': { type: 'string' },
  force: { type: 'boolean', default: false },
  'external-data': { type: 'boolean', default: false },
  python: { type: 'string' },
  json: { type: 'boolean', default: false },
  progress: { type: 'boolean', default: true },
  'no-progress': { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  'weight-type': { type: 'string' },
  'per-channel': { type: 'boolean', default: false },
  'reduce-range': { type: 'boolean', default: false },
  'op-types': { type: 'string' },
  'exclude-nodes': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InputError((error as Error).message.split('\n')[0]!, { hint: 'see rapidfit-export --help' });
  }
}

function numberOption(values: Values, name: keyof Values, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
    throw new InputError(`--${String(name)} needs a number, got "${String(raw)}"`);
  }
  return value;
}

/** --gates-file: JSON validated by zod; --gate flags given too are applied after it. */
function readGatesFile(file: string | undefined): GateSpec[] {
  if (!file) return [];
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read the gates file: ${(error as Error).message.split('\n')[0]}`, { file: resolve(file) });
  }
  try {
    return gateSpecsFromFile(content);
  } catch (error) {
    throw new InputError(`invalid gates file${error instanceof ZodError ? ` at ${describeFirstIssue(error)}` : ''}`, {
      file: resolve(file),
      hint: '{"int8": {"top1": 0.99}, "tasks": {"spam": {"int8": {"top1": 0.95}}}}',
    });
  }
}

export function buildExportOptions(modelDir: string, values: Values): ExportOptions {
  const candidate = {
    modelDir,
    outDir: values.out ?? join(dirname(resolve(modelDir)), `${basename(resolve(modelDir))}-onnx`),
    tasks: values.tasks
      ?.split(',')
      .map((task) => task.trim())
      .filter(Boolean),
    taskName: values['task-name'],
    opset: numberOption(values, 'opset', DEFAULTS.opset),
    maxLength: numberOption(values, 'max-length', DEFAULTS.maxLength),
    exporter: values.exporter ?? DEFAULTS.exporter,
    fp32Tolerance: numberOption(values, 'fp32-tolerance', DEFAULTS.fp32Tolerance),
    int8Top1: numberOption(values, 'int8-top1', DEFAULTS.int8Top1),
    quantize: values.quantize ?? 'int8',
    int8: values.int8 ?? DEFAULTS.int8,
    int8Budget: numberOption(values, 'int8-budget', DEFAULTS.int8Budget),
    latency: values.latency && !values['no-latency'],
    quantization: buildQuantizeOptions(values),
    gates: [
      ...readGatesFile(values['gates-file']),
      ...(values.gate ?? []).map((text) => {
        try {
          return parseGateSpec(text);
        } catch (error) {
          throw new InputError((error as Error).message);
        }
      }),
    ],
    junit: values.junit ? resolve(values.junit) : undefined,
    samples: values.samples ? resolve(values.samples) : undefined,
    sampleLimit: values['samples-limit'] === undefined ? undefined : numberOption(values, 'samples-limit', 0),
    python: values.python,
    force: values.force,
    externalData: values['external-data'],
    progress: values.progress && !values['no-progress'],
    json: values.json,
    verbose: values.verbose,
  };
  const parsed = exportOptionsSchema.safeParse(candidate);
  if (!parsed.success) throw new InputError(describeZodError(parsed.error), { hint: 'see rapidfit-export --help' });
  return parsed.data;
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

async function commandInspect(positionals: string[], values: Values): Promise<void> {
  const target = positionals[0];
  if (!target) throw new InputError('inspect needs a model directory', { hint: 'rapidfit-export inspect ./my_model' });
  if (target.endsWith('.onnx')) {
    const summary = summarizeOnnx(await readOnnx(resolve(target)));
    print(values.json, summary, describeOnnx(summary));
    return;
  }
  const { dir } = checkModelDir(target);
  const { openBridge } = await import('./bridge/session.js');
  const { describeModelSpec, inspectModel } = await import('./export/model-spec.js');
  const session = await openBridge({
    ...(values.python ? { python: values.python } : {}),
    verbose: values.verbose,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  try {
    const spec = await inspectModel(session.client, dir, values['task-name']);
    const size = await directorySize(dir);
    print(values.json, { ...spec, sizeBytes: size }, describeModelSpec(spec, size));
  } finally {
    await session.client.close();
  }
}

async function commandBridgeDoctor(values: Values): Promise<void> {
  const { findPython } = await import('./bridge/python.js');
  const { cacheRoot, lockHash, venvDirFor, venvState } = await import('./bridge/venv.js');
  const { openBridge } = await import('./bridge/session.js');
  const interpreter = await findPython(values.python);
  const hash = lockHash();
  const venvDir = venvDirFor(interpreter, hash);
  const before = venvState(venvDir, hash);
  const session = await openBridge({
    ...(values.python ? { python: values.python } : {}),
    verbose: values.verbose,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  try {
    const versions = session.client.versions;
    const report = {
      interpreter: { command: interpreter.command, executable: interpreter.executable, version: interpreter.version.join('.') },
      lockFile: LOCK_FILE,
      lockSha256: hash,
      cacheDir: cacheRoot(),
      venvDir,
      venvStateBefore: before,
      installedNow: session.environment.created,
      bridge: versions,
      runtime: runtimeFacts(),
    };
    const text = [
      `interpreter   ${interpreter.executable} (Python ${interpreter.version.join('.')})`,
      `lock          ${LOCK_FILE}`,
      `lock sha256   ${hash}`,
      `venv          ${venvDir} (${before === 'ready' ? 'ready' : `was ${before}, installed now`})`,
      ...Object.entries(versions)
        .filter(([key]) => key !== 'executable' && key !== 'platform')
        .map(([key, value]) => `${key.padEnd(13)} ${value ?? 'not installed'}`),
      `node          ${process.version}, onnxruntime-node ${String((runtimeFacts() as { onnxruntimeNode: string }).onnxruntimeNode)}`,
    ].join('\n');
    print(values.json, report, text);
  } finally {
    await session.client.close();
  }
}

function splitList(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

export function buildQuantizeOptions(values: Values): QuantizeOptions {
  const parsed = quantizeOptionsSchema.safeParse({
    weightType: values['weight-type'] ?? DEFAULT_QUANTIZE_OPTIONS.weightType,
    perChannel: values['per-channel'],
    reduceRange: values['reduce-range'],
    opTypes: splitList(values['op-types']) ?? DEFAULT_QUANTIZE_OPTIONS.opTypes,
    excludeNodes: splitList(values['exclude-nodes']) ?? [],
    externalData: values['external-data'] ? 'always' : 'auto',
  });
  if (!parsed.success) throw new InputError(describeZodError(parsed.error), { hint: 'see rapidfit-export --help' });
  return parsed.data;
}

async function commandQuantize(positionals: string[], values: Values): Promise<void> {
  const input = positionals[0];
  if (!input) throw new InputError('quantize needs an ONNX file', { hint: 'rapidfit-export quantize model.onnx -o model_int8.onnx' });
  const { runQuantizeCommand } = await import('./commands/quantize.js');
  const result = await runQuantizeCommand({
    input,
    ...(values.out ? { out: values.out } : {}),
    ...(values.int8 ? { int8: values.int8 } : {}),
    options: buildQuantizeOptions(values),
    ...(values.samples ? { samples: values.samples } : {}),
    ...(values.tokenizer ? { tokenizer: values.tokenizer } : {}),
    maxLength: numberOption(values, 'max-length', DEFAULTS.maxLength),
    budget: numberOption(values, 'int8-budget', DEFAULTS.int8Budget),
    int8Top1: numberOption(values, 'int8-top1', DEFAULTS.int8Top1),
    onProgress: (message) => {
      if (!values.json) process.stderr.write(`  ${message}\n`);
    },
  });
  const methods = Object.entries(result.methods).map(([method, n]) => `${n} ${method}`).join(', ');
  const summary = `${result.file}: ${Object.entries(result.quantizedNodes).map(([op, n]) => `${n} ${op}`).join(', ')} quantized (${result.quantizedWeights} weights; MatMuls: ${methods}) in ${result.seconds.toFixed(1)} s; ${(result.bytes / 1e6).toFixed(1)} MB${
    Object.keys(result.unsupported).length > 0 ? `; left in float (not implemented): ${Object.entries(result.unsupported).map(([op, n]) => `${n} ${op}`).join(', ')}` : ''
  }${result.judged ? `\n  judged half of the texts, top-1 agreement with FP32: ${Object.entries(result.judged).map(([name, v]) => `${name} ${(v * 100).toFixed(2)}%`).join(', ')}` : ''}${
    result.speedupBatch1 ? `; ${result.speedupBatch1.toFixed(2)}x FP32 speed at batch 1` : ''
  }${result.note ? `\n  ${result.note}` : ''}`;
  print(values.json, { ...result, peakRssBytes: process.resourceUsage().maxRSS * 1024 }, summary);
}

/** The gates a bundle was built with, from its manifest's options. */
function gatesFromManifest(task: string, manifest: Manifest) {
  const options = manifest.options as { fp32Tolerance?: number; int8Top1?: number; gates?: GateSpec[] };
  return gatesForTask(task, options.fp32Tolerance ?? DEFAULTS.fp32Tolerance, options.int8Top1 ?? DEFAULTS.int8Top1, options.gates ?? []);
}

async function commandVerify(positionals: string[], values: Values): Promise<void> {
  const target = positionals[0];
  if (!target) throw new InputError('verify needs a bundle directory', { hint: 'rapidfit-export verify ./my_model-onnx' });
  const dir = resolve(target);
  if (!existsSync(dir)) throw new InputError('the bundle directory does not exist', { file: dir });
  const { verifyBundle } = await import('./verify/bundle-check.js');
  const { writeJunit } = await import('./verify/ci-output.js');
  const verification = await verifyBundle(dir, gatesFromManifest, (line) => {
    if (!values.json) process.stderr.write(`  ${line}\n`);
  });
  if (values.junit) await writeJunit(resolve(values.junit), verification.tasks);
  const lines = [`${dir}: ${verification.manifest.files.length} files match the manifest`];
  for (const task of verification.tasks) {
    for (const [kind, metrics] of Object.entries(task.comparisons)) {
      const gates = task.gates.filter((gate) => gate.comparison === kind).map((gate) => `${gate.passed ? 'pass' : 'FAIL'} ${gate.metric} ${gate.op} ${formatNumber(gate.limit)}`);
      lines.push(`  ${task.task} ${kind}: max abs diff ${formatNumber(metrics.maxAbsDiff)}, top-1 agreement ${(metrics.top1Agreement * 100).toFixed(2)}% (${metrics.samples} samples) ${gates.join('; ')}`);
    }
  }
  lines.push(verification.passed ? 'verified' : 'FAILED');
  print(values.json, { ok: verification.passed, tasks: verification.tasks, files: verification.manifest.files.length }, lines.join('\n'));
  if (!verification.passed) {
    const failures = verification.tasks.flatMap((t) => t.gates.filter((g) => !g.passed).map((g) => describeFailure(t.task, g)));
    throw new GateError(`parity gate failed: ${failures.join('; ')}`, { file: dir });
  }
}

async function commandExport(positionals: string[], values: Values): Promise<void> {
  const modelDir = positionals[0];
  if (!modelDir) throw new InputError('no model directory given', { hint: 'rapidfit-export ./my_model (see --help)' });
  if (positionals.length > 1) throw new InputError(`unexpected argument "${positionals[1]}"`, { hint: 'see rapidfit-export --help' });
  const options = buildExportOptions(modelDir, values);
  const { runExport } = await import('./pipeline.js');
  const result = await runExport(options);
  const summary = [
    `bundle written to ${result.outDir} (verified)`,
    ...result.parity.map(
      (p) =>
        `  ${p.task}: FP32 max abs diff ${p.fp32MaxAbsDiff === null ? 'n/a' : p.fp32MaxAbsDiff.toExponential(2)}` +
        (p.int8Top1Agreement === null ? '' : `, INT8 top-1 agreement ${(p.int8Top1Agreement * 100).toFixed(1)}%`),
    ),
  ].join('\n');
  print(options.json, { ...result, exitCode: 0 }, summary);
}

export async function main(argv: string[]): Promise<ExitCodeValue> {
  installSignalHandlers();
  let json = argv.includes('--json');
  try {
    // predict reads its own options (src/commands/predict.ts), which the export parser below would refuse
    if (argv[0] === 'predict') return await (await import('./commands/predict.js')).commandPredict(argv.slice(1));
    const { values, positionals } = parse(argv);
    json = values.json;
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return ExitCode.ok;
    }
    if (values.version) {
      process.stdout.write(`${toolVersion()}\n`);
      return ExitCode.ok;
    }
    const [first, ...rest] = positionals;
    if (first === 'inspect') await commandInspect(rest, values);
    else if (first === 'bridge') {
      if (rest[0] !== 'doctor') throw new InputError(`unknown bridge command "${rest[0] ?? ''}"`, { hint: 'rapidfit-export bridge doctor' });
      await commandBridgeDoctor(values);
    } else if (first === 'quantize') await commandQuantize(rest, values);
    else if (first === 'verify') await commandVerify(rest, values);
    else if (first === 'export') await commandExport(rest, values);
    else await commandExport(positionals, values);
    return ExitCode.ok;
  } catch (error) {
    runAbortActions();
    if (error instanceof ToolError) {
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ ok: false, exitCode: error.exitCode, error: { message: error.message, ...error.details }, result: error.payload ?? null }, null, 2)}\n`,
        );
      }
      process.stderr.write(`${formatToolError(error)}\n`);
      if (error.exitCode === ExitCode.internal && error.stack) process.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, exitCode: 1, error: { message: String(error) } }, null, 2)}\n`);
    process.stderr.write(`internal error (please report it): ${message}\n`);
    return ExitCode.internal;
  }
}

function isMain(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = ExitCode.internal;
    },
  );
}
