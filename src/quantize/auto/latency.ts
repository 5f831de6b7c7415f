import ort from 'onnxruntime-node';

export interface Latency {
  batch: number;
  sequence: number;
  /** Median of the timed runs, in milliseconds. */
  ms: number;
}

/**
 * Median latency of one graph with input_ids/attention_mask inputs on a synthetic batch (token id
 * 1000, no padding), after one warm-up run. Sessions use ORT's defaults (all graph optimizations).
 */
export async function measureLatency(file: string, batch: number, sequence: number, runs: number): Promise<Latency> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    const size = batch * sequence;
    const feeds: Record<string, ort.Tensor> = {};
    if (session.inputNames.includes('input_ids')) feeds.input_ids = new ort.Tensor('int64', new BigInt64Array(size).fill(1000n), [batch, sequence]);
    if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(size).fill(1n), [batch, sequence]);
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
