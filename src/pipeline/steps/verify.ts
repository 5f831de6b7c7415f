import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verificationSchema } from '../../config/verification.js';
import { VERIFICATION_FILE } from '../../plan/files.js';
import { VARIANTS } from '../../plan/variants.js';
import { multiheadOutput } from '../../plan/model-io.js';
import { compareWithReference, type MultiheadGraphs } from '../../verify/parity.js';
import { graphFiles, type ExportContext, type Step } from '../context.js';
import { measureTaskLatency } from '../latency-step.js';

/** The multihead graph of each variant and each task's output in it. */
function multiheadGraphs(c: ExportContext): MultiheadGraphs | undefined {
  if (!c.multihead) return undefined;
  return {
    files: Object.fromEntries(VARIANTS.filter((variant) => c.multihead![variant]).map((variant) => [variant, c.multihead![variant]!.file])),
    outputs: Object.fromEntries(c.tasks.map((name) => [name, multiheadOutput(name)])),
  };
}

/** Every graph of every variant run in onnxruntime-node on the samples and compared with PyTorch's logits; the inputs and logits kept in verification.json. */
export const verifyParity: Step = {
  title: 'Verify parity with PyTorch',
  timing: 'verify',
  async run(c, task) {
    // the INT8 search ran the graph multihead_int8.onnx is cut from on the calibration split, which comes first
    const searched = c.int8?.calibrationLogits;
    const calibrationFirst = c.reference!.slice(0, c.reference!.filter((batch) => batch.split === 'calibration').length).every((batch) => batch.split === 'calibration');
    c.comparisons = await compareWithReference(c.reference!, graphFiles(c.graphs), {
      gold: c.samples!.gold,
      onProgress: (message) => (task.output = message),
      multihead: multiheadGraphs(c),
      shareMultihead: true,
      ...(searched && calibrationFirst ? { measured: { int8: { graph: 'the INT8 search (its chosen graph)', logits: searched } } } : {}),
    });
    const verification = verificationSchema.parse({ schema: 'rapidfit-export/verification', schemaVersion: 1, maxLength: c.options.maxLength, batches: c.reference });
    await writeFile(join(c.staging!, VERIFICATION_FILE), `${JSON.stringify(verification)}\n`);
  },
};

/** Batch 1 and 32 latency of every variant's graphs, for the report. */
export const measureLatency: Step = {
  title: 'Measure latency',
  timing: 'latency',
  enabled: (c) => c.options.latency,
  async run(c, task) {
    c.latency = await measureTaskLatency(graphFiles(c.graphs), (message) => (task.output = message));
  },
};
