import { measureLatency } from '../quantize/auto/latency.js';

export const LATENCY_SEQUENCE = 128;
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
}

/** FP32 and INT8 latency of every task's graphs in onnxruntime-node, measured side by side during the run. */
export async function measureTaskLatency(
  graphs: Record<string, Record<string, string>>,
  onProgress: (message: string) => void,
): Promise<Record<string, TaskLatency[]>> {
  const out: Record<string, TaskLatency[]> = {};
  for (const [task, files] of Object.entries(graphs)) {
    out[task] = [];
    for (const [batch, runs] of RUNS) {
      onProgress(`${task}: latency at batch ${batch}, ${LATENCY_SEQUENCE} tokens`);
      const fp32 = await measureLatency(files.fp32!, batch, LATENCY_SEQUENCE, runs);
      const int8 = files.int8 ? await measureLatency(files.int8, batch, LATENCY_SEQUENCE, runs) : undefined;
      out[task].push({ batch, sequence: LATENCY_SEQUENCE, fp32Ms: fp32.ms, ...(int8 ? { int8Ms: int8.ms } : {}) });
    }
  }
  return out;
}
