import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParityReport } from '../../config/report.js';
import { runtimeFacts, TOOL_NAME, toolVersion } from '../../environment.js';
import { REPORT_HTML_FILE, REPORT_JSON_FILE, REPORT_MARKDOWN_FILE } from '../../plan/files.js';
import { appendStepSummary, writeJunit } from '../../verify/ci-output.js';
import { evaluateGates, gatesForTask, withMultiheadGates } from '../../verify/gates.js';
import type { ComparisonMetrics } from '../../metrics/logits.js';
import { renderHtml } from '../../report/html.js';
import { renderMarkdown, renderSummaryMarkdown } from '../../report/markdown.js';
import type { ExportContext, Step } from '../context.js';
import { int8Report } from '../int8-report.js';
import { SAMPLE_SEED } from '../../quantize/policy.js';
import { graphBytes } from './sizes.js';
import { sampleWarnings } from '../../verify/sample-warnings.js';

/** Infinity and NaN are not JSON: the report stores them as null. */
function jsonSafeComparisons(
  comparisons: Record<string, ComparisonMetrics>,
): ParityReport['tasks'][number]['comparisons'] {
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

function taskReport(c: ExportContext, name: string): ParityReport['tasks'][number] {
  const comparisons = c.comparisons![name]!;
  const gates = evaluateGates(
    withMultiheadGates(
      gatesForTask(name, c.options.fp32Tolerance, c.options.int8Top1, c.options.gates, c.options.gateOn),
    ),
    comparisons,
  );
  const sizes = Object.fromEntries(
    Object.entries(c.graphs[name]!).map(([variant, graph]) => [variant, graphBytes(graph)]),
  );
  const latency = c.latency?.[name];
  return {
    task: name,
    comparisons: jsonSafeComparisons(comparisons),
    gates,
    passed: gates.every((gate) => gate.passed),
    ...(latency ? { latency } : {}),
    ...(sizes.int8 !== undefined ? { int8SizeShare: sizes.int8 / sizes.fp32! } : {}),
    sizes,
  };
}

/** The gates evaluated per task and variant, into parity-report.json, .md and .html (and JUnit, and the GitHub step summary). */
export const writeReport: Step = {
  title: 'Evaluate the gates',
  async run(c, task) {
    const tasks = c.tasks.map((name) => taskReport(c, name));
    const warnings = sampleWarnings({
      samples: c.samples!,
      int8Gates: tasks.flatMap((t) =>
        t.gates.filter((g) => g.comparison === 'int8' && g.metric === 'top1Agreement').map((g) => g.limit),
      ),
      tuned: c.samples!.splits.calibration > 0,
    });
    c.report = {
      schema: 'rapidfit-export/parity-report',
      schemaVersion: 1,
      createdAt: new Date().toISOString(),
      tool: { name: TOOL_NAME, version: toolVersion() },
      model: { dir: c.modelDir, format: c.spec!.format },
      samples: {
        source: c.samples!.source,
        seed: c.samples!.seed,
        count: c.samples!.texts.length,
        maxLength: c.options.maxLength,
        splits: c.samples!.splits,
        origin: c.samples!.origin,
        ...(warnings.length > 0 ? { warnings } : {}),
      },
      environment: { ...runtimeFacts(), bridge: c.bridge!.client.versions },
      tasks,
      ...(c.int8 ? { int8: int8Report(c.options.int8, c.int8, SAMPLE_SEED, c.samples!.splits.judged) } : {}),
      timings: c.timings,
      stepPeakRssMiB: c.stepPeakRssMiB,
      passed: tasks.every((report) => report.passed),
    };
    await writeFile(join(c.staging!, REPORT_JSON_FILE), `${JSON.stringify(c.report, null, 2)}\n`);
    const labels = { labels: Object.fromEntries(c.spec!.tasks.map((t) => [t.name, t.id2label])) };
    await writeFile(join(c.staging!, REPORT_MARKDOWN_FILE), renderMarkdown(c.report, labels));
    await writeFile(join(c.staging!, REPORT_HTML_FILE), renderHtml(c.report, labels));
    await appendStepSummary(renderSummaryMarkdown(c.report));
    if (c.options.junit) await writeJunit(c.options.junit, tasks);
    const worst = Math.max(...tasks.map((r) => r.comparisons.fp32?.maxAbsDiff ?? Infinity));
    const int8 = tasks.filter((r) => r.comparisons.int8).map((r) => r.comparisons.int8!.top1Agreement);
    const fp16 = tasks.filter((r) => r.comparisons.fp16).map((r) => r.comparisons.fp16!.maxAbsDiff ?? Infinity);
    task.title = `Evaluate the gates: ${c.samples!.texts.length} samples, max FP32 diff ${worst.toExponential(2)}${
      int8.length > 0
        ? `, INT8 top-1 agreement >= ${(Math.min(...int8) * 100).toFixed(1)}%${c.samples!.splits.calibration > 0 ? ' on the judged split' : ''}`
        : ''
    }${fp16.length > 0 ? `, max FP16 diff ${Math.max(...fp16).toExponential(2)}` : ''} (${c.report.passed ? 'pass' : 'FAIL'})`;
  },
};
