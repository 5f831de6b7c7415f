import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Listr, type ListrRendererValue } from 'listr2';
import { discardStagingDir } from './bundle/atomic.js';
import type { EarlyBridge } from './bridge/session.js';
import type { ExportOptions } from './options/export.js';
import type { ExportContext, ExportResult, Step } from './pipeline/context.js';
import { stepError } from './pipeline/step-error.js';
import { prepareBridge } from './pipeline/steps/bridge.js';
import { checkInputAndOutput } from './pipeline/steps/check-io.js';
import { saveTokenizer, writeConfigs } from './pipeline/steps/configs.js';
import { exportFp32 } from './pipeline/steps/export-fp32.js';
import { convertFp16 } from './pipeline/steps/fp16.js';
import { inspectTheModel } from './pipeline/steps/inspect.js';
import { quantizeInt8 } from './pipeline/steps/int8.js';
import { runPyTorch } from './pipeline/steps/reference.js';
import { readSamples } from './pipeline/steps/samples.js';
import { exportTheMultiheadGraph } from './pipeline/steps/trace.js';
import { writeReport } from './pipeline/steps/report.js';
import { measureLatencies, verifyParity } from './pipeline/steps/verify.js';
import { writeBundle } from './pipeline/steps/write-bundle.js';

export type { ExportResult } from './pipeline/context.js';
export { SAMPLE_SEED } from './quantize/policy.js';

/**
 * The export, step by step: each step one job over the typed context (src/pipeline/steps/). (Running
 * the bridge's steps beside Node's was measured: no gain on 2 cores, where PyTorch uses both.)
 */
const EXPORT_STEPS: readonly Step[] = [
  checkInputAndOutput,
  prepareBridge,
  inspectTheModel,
  readSamples,
  exportTheMultiheadGraph,
  exportFp32,
  writeConfigs,
  saveTokenizer,
  runPyTorch,
  quantizeInt8,
  convertFp16,
  verifyParity,
  measureLatencies,
  writeReport,
  writeBundle,
];

function rendererFor(options: ExportOptions): ListrRendererValue {
  if (options.json) return 'silent';
  if (!options.progress || !process.stderr.isTTY) return 'simple';
  return 'default';
}

/** A step as a listr2 task: timed under its `timing` key, its errors made readable (stepError). */
function listrTask(step: Step) {
  return {
    title: step.title,
    ...(step.enabled ? { enabled: step.enabled } : {}),
    task: async (c: ExportContext, task: { output: string; title: string }) => {
      const started = performance.now();
      try {
        await step.run(c, task);
      } catch (error) {
        throw step.timing ? stepError(error, step.timing, c.outDir) : error;
      } finally {
        if (step.timing) {
          c.timings[step.timing] = Math.round(performance.now() - started) / 1000;
          c.stepPeakRssMiB[step.timing] = Math.round(process.resourceUsage().maxRSS / 1024);
        }
      }
    },
  };
}

/**
 * The main job: model dir -> verified bundle. Throws ToolError subclasses for user-facing failures.
 * `bridge`: one started before this module loaded (startExport); killed here if no step took it.
 */
export async function runExport(options: ExportOptions, started: { bridge?: EarlyBridge } = {}): Promise<ExportResult> {
  const context: ExportContext = {
    ...(started.bridge ? { earlyBridge: started.bridge } : {}),
    options,
    modelDir: resolve(options.modelDir),
    format: 'rapidfit',
    outDir: resolve(options.outDir),
    tasks: [],
    graphs: {},
    timings: {},
    stepPeakRssMiB: {},
  };
  const tasks = new Listr<ExportContext, ListrRendererValue, ListrRendererValue>(EXPORT_STEPS.map(listrTask), {
    renderer: rendererFor(options),
    fallbackRenderer: 'simple',
    exitOnError: true,
    rendererOptions: { showErrorMessage: false } as never,
    ctx: context,
  });
  try {
    await tasks.run(context);
    return context.result!;
  } finally {
    await (context.bridgeClosing ?? context.bridge?.client.close().catch(() => undefined));
    if (!context.bridge) await context.earlyBridge?.cancel();
    if (context.staging) await discardStagingDir(context.staging);
    if (context.workDir) await rm(context.workDir, { recursive: true, force: true });
    await context.releaseOutput?.();
  }
}
