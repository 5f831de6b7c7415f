import ort from 'onnxruntime-node';
import { inputFeeds } from '../../verify/onnx-session.js';

export interface Latency {
  batch: number;
  sequence: number;
  /** Median of the timed runs, in milliseconds. */
  ms: number;
}

/**
 * Median latency of one graph with the plan's inputs on a synthetic batch (token id
 * 1000, no padding), after one warm-up run. Sessions use ORT's defaults (all graph optimizations).
 */
export async function measureLatency(file: string, batch: number, sequence: number, runs: number): Promise<Latency> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    const size = batch * sequence;
    const shape = [batch, sequence];
    const feeds = inputFeeds(session.inputNames, {
      inputIds: { dtype: 'int64', shape, data: new BigInt64Array(size).fill(1000n) },
      attentionMask: { dtype: 'int64', shape, data: new BigInt64Array(size).fill(1n) },
    });
    await session.run(feeds);
    const times: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      await session.run(feeds);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { batch, sequence, ms: times[Math.floor(times.length / 2)]! };
  } finally {
    await session.release();
  }
}
