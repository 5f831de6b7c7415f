import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Listr, type ListrRendererValue } from 'listr2';
import type { BridgeSession } from './bridge/session.js';
import { openBridge } from './bridge/session.js';
import { checkOutputDir, createStagingDir, discardStagingDir, publishStagingDir } from './bundle/atomic.js';
import { checksumTree } from './bundle/checksums.js';
import { acquireOutputLock } from './bundle/output-lock.js';
import { onAbort, removeDirOnAbort } from './cleanup.js';
import type { Manifest } from './config/manifest.js';
import type { ModelSpec } from './config/model-spec.js';
import type { ExportOptions } from './config/options.js';
import type { ParityReport } from './config/report.js';
import { runtimeFacts, TOOL_NAME, toolVersion } from './environment.js';
import { ExitCode, GateError, ToolError } from './errors.js';
import { stepError } from './pipeline/step-error.js';
import { deriveTaskGraphs } from './export/derive.js';
import { MULTIHEAD_FILE, MULTIHEAD_INT8_FILE, multiheadMetadata, multiheadOutput, writeMultiheadGraph } from './export/multihead.js';
import { checkModelDir, type ModelFormat } from './export/model-dir.js';
import { inspectModel, selectTasks } from './export/model-spec.js';
import { graphMetadata, taskConfig } from './export/task-config.js';
import { describeFailure, evaluateGates, gatesForTask, withMultiheadGates } from './verify/gates.js';
import { appendStepSummary, writeJunit } from './verify/ci-output.js';
import { compareWithReference, runReference, type MultiheadGraphs, type StoredBatch } from './verify/parity.js';
import { VERIFICATION_FILE } from './verify/bundle-check.js';
import { renderMarkdown } from './verify/report.js';
import type { ComparisonMetrics } from './verify/metrics.js';
import { runInt8Step, type Int8StepResult } from './pipeline/int8-step.js';
import { measureTaskLatency } from './pipeline/latency-step.js';
import { int8Report } from './pipeline/int8-report.js';
import { embeddedSamples, loadSamples, splitForCalibration, type SampleSet } from './verify/samples.js';
import { checkTaskFiles } from './verify/config-check.js';

export const SAMPLE_SEED = 20251125;

export interface ExportResult {
  ok: boolean;
  outDir: string;
  verified: boolean;
  tasks: string[];
  files: Manifest['files'];
  parity: Array<{ task: string; fp32MaxAbsDiff: number | null; int8Top1Agreement: number | null; passed: boolean }>;
  timings: Record<string, number>;
  /** One line about the INT8 choice (speed goal missed, or no candidate passed the calibration split). */
  int8Note?: string;
  unverifiedDir?: string;
}

interface Context {
  options: ExportOptions;
  modelDir: string;
  format: ModelFormat;
  outDir: string;
  bridge?: BridgeSession;
  spec?: ModelSpec;
  tasks: string[];
  staging?: string;
  workDir?: string;
  /** task -> "fp32" | "int8" -> graph file in the staging dir. */
  graphs: Record<string, Record<string, string>>;
  /** task -> external data file name, for graphs whose weights are outside the protobuf. */
  weightFiles: Record<string, string>;
  int8WeightFiles: Record<string, string>;
  /** The shared trace in the work dir and each task's output in it (the INT8 choice runs on it). */
  multitask?: { file: string; outputs: Record<string, string> };
  /** multihead.onnx (bundles with two or more tasks) and its INT8 graph, in the staging dir; weights files by name. */
  multihead?: { fp32: string; weights?: string; int8?: string; int8Weights?: string };
  samples?: SampleSet;
  calibrationCount: number;
  reference?: StoredBatch[];
  int8?: Int8StepResult;
  report?: ParityReport;
  timings: Record<string, number>;
  result?: ExportResult;
  /** Releases this run's claim on the output directory (src/bundle/output-lock.ts). */
  releaseOutput?: () => Promise<void>;
}

/** Size of a graph file plus its external data file, if any. */
function graphBytes(file: string, weights?: string): number {
  return statSync(file).size + (weights ? statSync(join(dirname(file), weights)).size : 0);
}

/** Infinity and NaN are not JSON: the report stores them as null. */
function jsonSafeComparisons(comparisons: Record<string, ComparisonMetrics>): ParityReport['tasks'][number]['comparisons'] {
  return Object.fromEntries(
    Object.entries(comparisons).map(([kind, metrics]) => [
      kind,
      {
        ...metrics,
        maxAbsDiff: Number.isFinite(metrics.maxAbsDiff) ? metrics.maxAbsDiff : null,
        worst: metrics.worst.map((w) => ({ ...w, maxAbsDiff: Number.isFinite(w.maxAbsDiff) ? w.maxAbsDiff : null })),
      },
    ]),
  );
}

/** The multihead graphs to verify, each task's output in them. */
function multiheadGraphs(c: Context): MultiheadGraphs | undefined {
  if (!c.multihead) return undefined;
  return {
    files: { fp32: c.multihead.fp32, ...(c.multihead.int8 ? { int8: c.multihead.int8 } : {}) },
    outputs: Object.fromEntries(c.tasks.map((name) => [name, multiheadOutput(name)])),
  };
}

function int8Note(c: Context): { int8Note?: string } {
  return c.int8?.choice?.note ? { int8Note: c.int8.choice.note } : {};
}

function rendererFor(options: ExportOptions): ListrRendererValue {
  if (options.json) return 'silent';
  if (!options.progress || !process.stderr.isTTY) return 'simple';
  return 'default';
}

async function timed<T>(ctx: Context, name: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await body();
  } catch (error) {
    throw stepError(error, name, ctx.outDir);
  } finally {
    ctx.timings[name] = Math.round(performance.now() - started) / 1000;
  }
}

function specOptions(options: ExportOptions): Record<string, unknown> {
  return {
    tasks: options.tasks ?? null,
    opset: options.opset,
    maxLength: options.maxLength,
    exporter: options.exporter,
    fp32Tolerance: options.fp32Tolerance,
    externalData: options.externalData,
    int8Top1: options.int8Top1,
    quantize: options.quantize,
    int8: options.int8,
    int8Budget: options.int8Budget,
    quantization: options.quantization,
    gates: options.gates,
  };
}

/** The main job: model dir -> verified bundle. Throws ToolError subclasses for user-facing failures. */
export async function runExport(options: ExportOptions): Promise<ExportResult> {
  const outDir = resolve(options.outDir);
  const ctx: Context = {
    options,
    modelDir: resolve(options.modelDir),
    format: 'rapidfit',
    outDir,
    tasks: [],
    graphs: {},
    weightFiles: {},
    int8WeightFiles: {},
    calibrationCount: 0,
    timings: {},
  };
  const renderer = rendererFor(options);
  const tasks = new Listr<Context, ListrRendererValue, ListrRendererValue>(
    [
      {
        title: 'Check input and output',
        task: async (c) => {
          const checked = checkModelDir(c.options.modelDir);
          c.modelDir = checked.dir;
          c.format = checked.format;
          await checkOutputDir(c.outDir, c.modelDir, c.options.force);
          c.releaseOutput = await acquireOutputLock(c.outDir);
        },
      },
      {
        title: 'Prepare the Python bridge',
        task: async (c, task) =>
          timed(c, 'bridge', async () => {
            c.bridge = await openBridge({
              ...(c.options.python ? { python: c.options.python } : {}),
              ...(c.options.bridgeTimeoutSeconds !== undefined ? { bridgeTimeoutSeconds: c.options.bridgeTimeoutSeconds } : {}),
              verbose: c.options.verbose,
              onProgress: (line) => {
                task.output = line;
              },
            });
            onAbort(() => c.bridge?.client.kill());
            task.output = `bridge ready (pid ${String(c.bridge.client.pid)}, torch ${String(c.bridge.client.versions.torch)})`;
            if (c.bridge.environment.created) {
              task.title = `Prepare the Python bridge (installed in ${c.bridge.environment.installSeconds?.toFixed(0)} s)`;
            }
          }),
      },
      {
        title: 'Inspect the model',
        task: async (c, task) =>
          timed(c, 'inspect', async () => {
            c.spec = await inspectModel(c.bridge!.client, c.modelDir, c.options.taskName);
            c.tasks = selectTasks(c.spec, c.options.tasks);
            task.title = `Inspect the model: ${c.spec.format}, tasks ${c.tasks.join(', ')}`;
          }),
      },
      {
        title: 'Export to ONNX (FP32)',
        task: async (c, task) =>
          timed(c, 'export', async () => {
            c.staging = await createStagingDir(c.outDir);
            c.workDir = await mkdtemp(join(tmpdir(), 'rapidfit-export-'));
            removeDirOnAbort(c.workDir);
            const exported = await c.bridge!.client.request<{
              files: Record<string, { file: string; output: string }>;
              seconds: number;
            }>(
              'export',
              {
                model_dir: c.modelDir,
                task_name: c.options.taskName,
                tasks: c.tasks,
                opset: c.options.opset,
                max_length: c.options.maxLength,
                exporter: c.options.exporter,
                out_dir: join(c.workDir, 'export'),
                mode: 'shared',
              },
              { onProgress: (message) => (task.output = message) },
            );
            c.timings.trace = Math.round(exported.seconds * 1000) / 1000;
            task.output = 'deriving one graph per task';
            const multitask = Object.values(exported.files)[0]!.file;
            const outputs = Object.fromEntries(Object.entries(exported.files).map(([name, value]) => [name, value.output]));
            c.multitask = { file: multitask, outputs };
            const version = toolVersion();
            const configs = Object.fromEntries(
              c.spec!.tasks.filter((t) => c.tasks.includes(t.name)).map((t) => [t.name, taskConfig(c.spec!, t, c.options.maxLength)]),
            );
            const derived = await deriveTaskGraphs(
              multitask,
              outputs,
              c.staging,
              (name) => graphMetadata(configs[name]!, version),
              c.options.externalData ? 'always' : 'auto',
            );
            for (const graph of derived) if (graph.dataFile) c.weightFiles[graph.task] = basename(graph.dataFile);
            for (const graph of derived) c.graphs[graph.task] = { fp32: graph.file };
            if (c.tasks.length > 1) {
              task.output = `writing ${MULTIHEAD_FILE}`;
              const written = await writeMultiheadGraph(
                multitask,
                outputs,
                c.staging,
                multiheadMetadata(Object.values(configs), version),
                c.options.externalData ? 'always' : 'auto',
              );
              c.multihead = { fp32: written.file, ...(written.dataFile ? { weights: basename(written.dataFile) } : {}) };
            }
            for (const [name, config] of Object.entries(configs)) {
              await writeFile(join(c.staging, `${name}_config.json`), `${JSON.stringify(config, null, 2)}\n`);
            }
            task.output = 'saving the tokenizer';
            await c.bridge!.client.request('save_tokenizer', { model_dir: c.modelDir, out_dir: join(c.staging, 'tokenizer') });
            task.output = 'checking configs and graphs against the model';
            const problems: string[] = [];
            for (const name of c.tasks) {
              problems.push(...(await checkTaskFiles(c.spec!, name, join(c.staging, `${name}_config.json`), c.graphs[name]!.fp32!, c.options.maxLength)));
            }
            const probe = await c.bridge!.client.request<{ same: boolean; detail: string }>('check_tokenizer', {
              model_dir: c.modelDir,
              tokenizer_dir: join(c.staging, 'tokenizer'),
              texts: embeddedSamples(SAMPLE_SEED, 8).texts,
              max_length: c.options.maxLength,
            });
            if (!probe.same) problems.push(`tokenizer/: ${probe.detail}`);
            if (problems.length > 0) throw new ToolError(ExitCode.internal, `the exported files disagree with the model: ${problems.join('; ')}`);
            task.title = `Export to ONNX (FP32): ${derived.length} graph(s), traced once in ${exported.seconds.toFixed(1)} s`;
          }),
      },
      {
        title: 'Run PyTorch on the samples',
        task: async (c, task) =>
          timed(c, 'reference', async () => {
            const loaded = await loadSamples(
              SAMPLE_SEED,
              c.options.sampleLimit,
              c.options.samples,
              Object.fromEntries(c.spec!.tasks.map((t) => [t.name, t.label2id])),
            );
            const tuned = c.options.quantize === 'int8' && c.options.int8 === 'auto';
            const split = tuned ? splitForCalibration(loaded, SAMPLE_SEED) : { samples: loaded, calibrationCount: 0 };
            c.samples = split.samples;
            c.calibrationCount = split.calibrationCount;
            c.reference = await runReference({
              bridge: c.bridge!.client,
              modelDir: c.modelDir,
              ...(c.options.taskName ? { taskName: c.options.taskName } : {}),
              tasks: c.tasks,
              samples: c.samples,
              calibrationCount: c.calibrationCount,
              maxLength: c.options.maxLength,
              workDir: join(c.workDir!, 'reference'),
              onProgress: (message) => (task.output = message),
            });
            task.title = `Run PyTorch on the samples: ${c.samples.texts.length} texts${
              tuned ? ` (${c.calibrationCount} to calibrate INT8, ${c.samples.texts.length - c.calibrationCount} to judge it)` : ''
            }`;
          }),
      },
      {
        title: 'Quantize to INT8',
        enabled: (c) => c.options.quantize === 'int8',
        task: async (c, task) =>
          timed(c, 'quantize', async () => {
            c.int8 = await runInt8Step({
              mode: c.options.int8,
              options: c.options.quantization,
              budget: c.options.int8Budget,
              multitaskFile: c.multitask!.file,
              outputs: c.multitask!.outputs,
              fp32: Object.fromEntries(c.tasks.map((name) => [name, c.graphs[name]!.fp32!])),
              ...(c.multihead ? { multihead: c.multihead.fp32 } : {}),
              stagingDir: c.staging!,
              workDir: c.workDir!,
              gates: Object.fromEntries(
                c.tasks.map((name) => [
                  name,
                  gatesForTask(name, c.options.fp32Tolerance, c.options.int8Top1, c.options.gates).find((g) => g.comparison === 'int8' && g.metric === 'top1Agreement')?.limit ?? c.options.int8Top1,
                ]),
              ),
              reference: c.reference!,
              version: toolVersion(),
              onProgress: (message) => (task.output = message),
            });
            const sizes: string[] = [];
            for (const [name, graph] of Object.entries(c.int8.graphs)) {
              c.graphs[name]!.int8 = graph.file;
              if (graph.dataFile) c.int8WeightFiles[name] = graph.dataFile;
              sizes.push(`${((graph.bytes / graphBytes(c.graphs[name]!.fp32!, c.weightFiles[name])) * 100).toFixed(0)}%`);
            }
            if (c.multihead && c.int8.multihead) {
              c.multihead.int8 = c.int8.multihead.file;
              if (c.int8.multihead.dataFile) c.multihead.int8Weights = c.int8.multihead.dataFile;
            }
            const chosen = c.int8.choice?.chosen;
            const method = chosen
              ? `auto: ${chosen.base}${Object.keys(chosen.nodeMethods).length > 0 ? ` + ${Object.keys(chosen.nodeMethods).length} MatMuls at higher precision` : ''}${chosen.speedup ? `, ${chosen.speedup.toFixed(2)}x FP32 at batch 1` : ''}`
              : c.options.int8;
            task.title = `Quantize to INT8 (${method}): ${c.tasks.length} graph(s), ${sizes.join(', ')} of FP32 size`;
            if (c.int8.choice?.note) task.output = c.int8.choice.note;
          }),
      },
      {
        title: 'Verify parity with PyTorch',
        task: async (c, task) =>
          timed(c, 'verify', async () => {
            const comparisons = await compareWithReference(c.reference!, c.graphs, c.samples!.gold, (message) => (task.output = message), multiheadGraphs(c));
            await writeFile(
              join(c.staging!, VERIFICATION_FILE),
              `${JSON.stringify({ schema: 'rapidfit-export/verification', schemaVersion: 1, maxLength: c.options.maxLength, batches: c.reference })}\n`,
            );
            const latency = c.options.latency ? await measureTaskLatency(c.graphs, (message) => (task.output = message)) : {};
            const taskReports = c.tasks.map((name) => {
              const results = evaluateGates(withMultiheadGates(gatesForTask(name, c.options.fp32Tolerance, c.options.int8Top1, c.options.gates)), comparisons[name]!);
              const int8 = c.int8?.graphs[name];
              return {
                task: name,
                comparisons: jsonSafeComparisons(comparisons[name]!),
                gates: results,
                passed: results.every((gate) => gate.passed),
                ...(latency[name] ? { latency: latency[name] } : {}),
                ...(int8 ? { int8SizeShare: int8.bytes / graphBytes(c.graphs[name]!.fp32!, c.weightFiles[name]) } : {}),
              };
            });
            c.report = {
              schema: 'rapidfit-export/parity-report',
              schemaVersion: 1,
              createdAt: new Date().toISOString(),
              tool: { name: TOOL_NAME, version: toolVersion() },
              model: { dir: c.modelDir, format: c.spec!.format },
              samples: { source: c.samples!.source, seed: c.samples!.seed, count: c.samples!.texts.length, maxLength: c.options.maxLength },
              environment: { ...runtimeFacts(), bridge: c.bridge!.client.versions },
              tasks: taskReports,
              ...(c.int8 ? { int8: int8Report(c.options.int8, c.int8, SAMPLE_SEED, c.samples!.texts.length - c.calibrationCount) } : {}),
              timings: c.timings,
              passed: taskReports.every((report) => report.passed),
            };
            await writeFile(join(c.staging!, 'parity-report.json'), `${JSON.stringify(c.report, null, 2)}\n`);
            const markdown = renderMarkdown(c.report);
            await writeFile(join(c.staging!, 'parity-report.md'), markdown);
            await appendStepSummary(markdown);
            if (c.options.junit) await writeJunit(c.options.junit, taskReports);
            const worst = Math.max(...taskReports.map((r) => r.comparisons.fp32?.maxAbsDiff ?? Infinity));
            const int8 = taskReports.filter((r) => r.comparisons.int8).map((r) => r.comparisons.int8!.top1Agreement);
            task.title = `Verify parity with PyTorch: ${c.samples!.texts.length} samples, max FP32 diff ${worst.toExponential(2)}${
              int8.length > 0 ? `, INT8 top-1 agreement >= ${(Math.min(...int8) * 100).toFixed(1)}%${c.calibrationCount > 0 ? ' on the judged split' : ''}` : ''
            } (${c.report.passed ? 'pass' : 'FAIL'})`;
          }),
      },
      {
        title: 'Write the bundle',
        task: async (c, task) =>
          timed(c, 'bundle', async () => {
            const verified = c.report!.passed;
            const files = await checksumTree(c.staging!, ['manifest.json']);
            const manifest: Manifest = {
              schema: 'rapidfit-export/manifest',
              schemaVersion: 1,
              createdAt: new Date().toISOString(),
              verified,
              tool: { name: TOOL_NAME, version: toolVersion() },
              source: { modelDir: c.modelDir, format: c.spec!.format },
              tasks: c.tasks.map((name) => ({
                name,
                fp32: `${name}.onnx`,
                config: `${name}_config.json`,
                ...(c.weightFiles[name] ? { weights: c.weightFiles[name] } : {}),
                ...(c.graphs[name]?.int8 ? { int8: `${name}_int8.onnx` } : {}),
                ...(c.int8WeightFiles[name] ? { int8Weights: c.int8WeightFiles[name] } : {}),
                numLabels: c.spec!.tasks.find((t) => t.name === name)!.numLabels,
              })),
              ...(c.multihead
                ? {
                    multihead: {
                      fp32: MULTIHEAD_FILE,
                      ...(c.multihead.weights ? { weights: c.multihead.weights } : {}),
                      ...(c.multihead.int8 ? { int8: MULTIHEAD_INT8_FILE } : {}),
                      ...(c.multihead.int8Weights ? { int8Weights: c.multihead.int8Weights } : {}),
                      outputs: Object.fromEntries(c.tasks.map((name) => [name, multiheadOutput(name)])),
                    },
                  }
                : {}),
              options: specOptions(c.options),
              bridge: {
                lockSha256: c.bridge!.environment.lockHash,
                versions: Object.fromEntries(Object.entries(c.bridge!.client.versions).filter(([key]) => key !== 'executable')),
              },
              runtime: runtimeFacts(),
              files,
            };
            await writeFile(join(c.staging!, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
            const parity = c.report!.tasks.map((t) => ({
              task: t.task,
              fp32MaxAbsDiff: t.comparisons.fp32?.maxAbsDiff ?? null,
              int8Top1Agreement: t.comparisons.int8?.top1Agreement ?? null,
              passed: t.passed,
            }));
            if (!verified) {
              const unverified = `${c.outDir}.unverified`;
              await rm(unverified, { recursive: true, force: true });
              await rename(c.staging!, unverified);
              await discardStagingDir(c.staging!);
              c.result = { ok: false, outDir: c.outDir, verified, tasks: c.tasks, files, parity, timings: c.timings, unverifiedDir: unverified, ...int8Note(c) };
              const failures = c.report!.tasks.flatMap((t) => t.gates.filter((g) => !g.passed).map((g) => describeFailure(t.task, g)));
              const error = new GateError(`parity gate failed: ${failures.join('; ')}`, {
                file: join(unverified, 'parity-report.md'),
                hint: `${c.outDir} was left untouched; the unverified candidate is in ${unverified}`,
              });
              error.payload = c.result;
              throw error;
            }
            await publishStagingDir(c.staging!, c.outDir);
            c.result = { ok: true, outDir: c.outDir, verified, tasks: c.tasks, files, parity, timings: c.timings, ...int8Note(c) };
            task.title = `Write the bundle: ${c.outDir} (${files.length} files)`;
          }),
      },
    ],
    {
      renderer,
      fallbackRenderer: 'simple',
      exitOnError: true,
      rendererOptions: { showErrorMessage: false } as never,
      ctx,
    },
  );
  try {
    await tasks.run(ctx);
    return ctx.result!;
  } finally {
    await ctx.bridge?.client.close().catch(() => undefined);
    if (ctx.staging) await discardStagingDir(ctx.staging);
    if (ctx.workDir) await rm(ctx.workDir, { recursive: true, force: true });
    await ctx.releaseOutput?.();
  }
}
