import { VARIANTS } from '../plan/variants.js';
import { measureLatency } from '../quantize/auto/latency.js';

const LATENCY_SEQUENCE = 128;
/** Batch size -> timed runs (after one warm-up): batch 32 is slow, so it gets few. */
const RUNS: ReadonlyArray<[number, number]> = [
  [1, 10],
  [32, 2],
];

export interface TaskLatency {
  batch: number;
  sequence: number;
  fp32Ms: number;
  int8Ms?: number;
  fp16Ms?: number;
}

/** The latency of every variant of every task's graphs in onnxruntime-node (FP32, INT8, FP16), measured side by side during the run. */
export async function measureTaskLatency(
  graphs: Record<string, Record<string, string>>,
  onProgress: (message: string) => void,
): Promise<Record<string, TaskLatency[]>> {
  const out: Record<string, TaskLatency[]> = {};
  for (const [task, files] of Object.entries(graphs)) {
    out[task] = [];
    for (const [batch, runs] of RUNS) {
      onProgress(`${task}: latency at batch ${batch}, ${LATENCY_SEQUENCE} tokens`);
      const row: TaskLatency = { batch, sequence: LATENCY_SEQUENCE, fp32Ms: 0 };
      for (const variant of VARIANTS) {
        if (files[variant])
          row[`${variant}Ms`] = (await measureLatency(files[variant], batch, LATENCY_SEQUENCE, runs)).ms;
      }
      out[task].push(row);
    }
  }
  return out;
}
