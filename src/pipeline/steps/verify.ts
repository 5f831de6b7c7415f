import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verificationSchema } from '../../config/verification.js';
import { VERIFICATION_FILE } from '../../plan/files.js';
import { VARIANTS } from '../../plan/variants.js';
import { multiheadOutput } from '../../plan/model-io.js';
import { compareWithReference } from '../../verify/parity.js';
import type { MultiheadGraphs } from '../../verify/parity-plan.js';
import type { MeasuredLogits } from '../../verify/parity-runner.js';
import { graphFiles, type ExportContext, type Step } from '../context.js';
import { measureTaskLatency } from '../latency-step.js';

/** The multihead graph of each variant and each task's output in it. */
function multiheadGraphs(c: ExportContext): MultiheadGraphs | undefined {
  if (!c.multihead) return undefined;
  return {
    files: Object.fromEntries(
      VARIANTS.filter((variant) => c.multihead![variant]).map((variant) => [variant, c.multihead![variant]!.file]),
    ),
    outputs: Object.fromEntries(c.tasks.map((name) => [name, multiheadOutput(name)])),
  };
}

/**
 * Logits the INT8 search already has on the calibration split (which comes first): its chosen graph's,
 * which multihead_int8.onnx is cut from, and its error probe's FP32 outputs, which multihead.onnx's
 * nodes compute unchanged (both are written from the same exported multihead graph). Each multihead graph still runs
 * the first batches itself and must match them bit for bit (compareWithReference).
 */
function measuredLogits(c: ExportContext): Record<string, MeasuredLogits> {
  const calibrationCount = c.reference!.filter((batch) => batch.split === 'calibration').length;
  if (!c.reference!.slice(0, calibrationCount).every((batch) => batch.split === 'calibration')) return {};
  const searched = c.int8?.calibrationLogits;
  const probed = c.int8?.choice?.fp32Logits;
  return {
    ...(searched ? { int8: { graph: 'the INT8 search (its chosen graph)', logits: searched } } : {}),
    ...(probed && c.multihead?.fp32
      ? { fp32: { graph: "the INT8 search's error probe (the FP32 nodes, unchanged)", logits: probed } }
      : {}),
  };
}

/** Every graph of every variant run in onnxruntime-node on the samples and compared with PyTorch's logits; the inputs and logits kept in verification.json. */
export const verifyParity: Step = {
  title: 'Verify parity with PyTorch',
  timing: 'verify',
  async run(c, task) {
    c.comparisons = await compareWithReference(c.reference!, graphFiles(c.graphs), {
      onProgress: (message) => (task.output = message),
      multihead: multiheadGraphs(c),
      shareMultihead: true,
      measured: measuredLogits(c),
    });
    const verification = verificationSchema.parse({
      schema: 'rapidfit-export/verification',
      schemaVersion: 1,
      maxLength: c.options.maxLength,
      batches: c.reference,
    });
    await writeFile(join(c.staging!, VERIFICATION_FILE), `${JSON.stringify(verification)}\n`);
  },
};

/** Batch 1 and 32 latency of every variant's graphs, for the report. */
export const measureLatencies: Step = {
  title: 'Measure latency',
  timing: 'latency',
  enabled: (c) => c.options.latency,
  async run(c, task) {
    c.latency = await measureTaskLatency(graphFiles(c.graphs), (message) => (task.output = message));
  },
};
