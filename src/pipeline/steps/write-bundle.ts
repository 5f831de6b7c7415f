import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { discardStagingDir, publishStagingDir } from '../../bundle/atomic.js';
import { checksumTree } from '../../bundle/checksums.js';
import { variantEntry, type Manifest } from '../../config/manifest.js';
import { runtimeFacts, TOOL_NAME, toolVersion } from '../../environment.js';
import type { ExportOptions } from '../../options/export.js';
import { MANIFEST_FILE, REPORT_MARKDOWN_FILE, taskConfigFile } from '../../plan/files.js';
import { multiheadOutput } from '../../plan/model-io.js';
import { VARIANTS } from '../../plan/variants.js';
import { parityGateError } from '../../verify/gates.js';
import type { ExportContext, ExportResult, Step, VariantGraphs } from '../context.js';

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
    fp16: options.fp16,
    quantization: options.quantization,
    gates: options.gates,
    gateOn: options.gateOn,
    samples: options.samples.map((file) => basename(file)),
    sampleLimit: options.sampleLimit ?? null,
    batchSize: options.batchSize,
  };
}

/** The manifest fields of every variant's graph, by the plan's keys (file names relative to the bundle). */
function variantEntries(graphs: VariantGraphs): ReturnType<typeof variantEntry> {
  return VARIANTS.reduce<ReturnType<typeof variantEntry>>((entries, variant) => {
    const graph = graphs[variant];
    return {
      ...entries,
      ...variantEntry(variant, graph ? { graph: basename(graph.file), weights: graph.weights } : undefined),
    };
  }, {});
}

function manifestOf(c: ExportContext, files: Manifest['files']): Manifest {
  return {
    schema: 'rapidfit-export/manifest',
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    verified: c.report!.passed,
    tool: { name: TOOL_NAME, version: toolVersion() },
    source: { modelDir: c.modelDir, format: c.spec!.format },
    tasks: c.tasks.map((name) => ({
      name,
      fp32: basename(c.graphs[name]!.fp32!.file),
      config: taskConfigFile(name),
      ...variantEntries(c.graphs[name]!),
      numLabels: c.spec!.tasks.find((t) => t.name === name)!.numLabels,
    })),
    ...(c.multihead?.fp32
      ? {
          multihead: {
            fp32: basename(c.multihead.fp32.file),
            ...variantEntries(c.multihead),
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
}

/** manifest.json, then the staging dir renamed into place, or to <out>.unverified when a gate failed (exit 3). */
export const writeBundle: Step = {
  title: 'Write the bundle',
  timing: 'bundle',
  async run(c, task) {
    const verified = c.report!.passed;
    const files = await checksumTree(c.staging!, [MANIFEST_FILE]);
    await writeFile(join(c.staging!, MANIFEST_FILE), `${JSON.stringify(manifestOf(c, files), null, 2)}\n`);
    const parity = c.report!.tasks.map((t) => ({
      task: t.task,
      fp32MaxAbsDiff: t.comparisons.fp32?.maxAbsDiff ?? null,
      int8Top1Agreement: t.comparisons.int8?.top1Agreement ?? null,
      ...(t.comparisons.fp16 ? { fp16MaxAbsDiff: t.comparisons.fp16.maxAbsDiff } : {}),
      passed: t.passed,
    }));
    const result: ExportResult = {
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the deprecated alias is still filled in
      ok: verified,
      outDir: c.outDir,
      verified,
      tasks: c.tasks,
      files,
      parity,
      timings: c.timings,
      ...(c.int8?.note ? { int8Note: c.int8.note } : {}),
      ...(c.report!.samples.warnings ? { warnings: c.report!.samples.warnings } : {}),
    };
    if (!verified) {
      const unverified = `${c.outDir}.unverified`;
      await rm(unverified, { recursive: true, force: true });
      await rename(c.staging!, unverified);
      await discardStagingDir(c.staging!);
      c.result = { ...result, unverifiedDir: unverified };
      const error = parityGateError(c.report!.tasks, {
        file: join(unverified, REPORT_MARKDOWN_FILE),
        hint: [
          `${c.outDir} was left untouched; the unverified candidate is in ${unverified}`,
          ...(result.warnings ?? []).map((warning) => `warning: ${warning}`),
        ].join('\n  '),
      });
      error.payload = c.result;
      throw error;
    }
    await publishStagingDir(c.staging!, c.outDir);
    c.result = result;
    task.title = `Write the bundle: ${c.outDir} (${files.length} files)`;
  },
};
