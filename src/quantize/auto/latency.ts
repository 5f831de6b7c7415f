import ort from 'onnxruntime-node';
import { inputFeeds } from '../../onnx/session.js';

export interface Latency {
  batch: number;
  sequence: number;
  /** Median of the timed runs, in milliseconds. */
  ms: number;
}

interface TimedSession {
  /** One run on the synthetic batch, in milliseconds. */
  time(): Promise<number>;
  release(): Promise<void>;
}

/**
 * A session on a synthetic batch (token id 1000, no padding) with the plan's inputs, warmed up by one
 * run. Sessions use ORT's defaults (all graph optimizations).
 */
async function openTimed(file: string, batch: number, sequence: number): Promise<TimedSession> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  const size = batch * sequence;
  const shape = [batch, sequence];
  const feeds = inputFeeds(session.inputNames, {
    inputIds: { dtype: 'int64', shape, data: new BigInt64Array(size).fill(1000n) },
    attentionMask: { dtype: 'int64', shape, data: new BigInt64Array(size).fill(1n) },
  });
  await session.run(feeds);
  return {
    async time() {
      const started = performance.now();
      await session.run(feeds);
      return performance.now() - started;
    },
    release: () => session.release(),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median latency of one graph over `runs` timed runs. */
export async function measureLatency(file: string, batch: number, sequence: number, runs: number): Promise<Latency> {
  const timed = await openTimed(file, batch, sequence);
  try {
    const times: number[] = [];
    for (let run = 0; run < runs; run += 1) times.push(await timed.time());
    return { batch, sequence, ms: median(times) };
  } finally {
    await timed.release();
  }
}

/**
 * How many times faster `candidate` runs than `reference`: both sessions open at once and run in
 * turn, and the median of the per-pair ratios is returned, so that a burst of load on a shared machine
 * slows both sides of a pair instead of one graph's whole measurement.
 */
export async function measureSpeedup(
  reference: string,
  candidate: string,
  batch: number,
  sequence: number,
  pairs: number,
): Promise<number> {
  const slow = await openTimed(reference, batch, sequence);
  try {
    const fast = await openTimed(candidate, batch, sequence);
    try {
      const ratios: number[] = [];
      for (let pair = 0; pair < pairs; pair += 1) ratios.push((await slow.time()) / (await fast.time()));
      return median(ratios);
    } finally {
      await fast.release();
    }
  } finally {
    await slow.release();
  }
}
