import ort from 'onnxruntime-node';
import { inputFeeds } from '../../onnx/session.js';

export interface Latency {
  batch: number;
  sequence: number;
  /** Median of the timed runs, in milliseconds. */
  ms: number;
}

/** A batch shape a graph is timed at. */
export interface SpeedPoint {
  batch: number;
  sequence: number;
}

/** FP32 latency / INT8 latency at one shape: the median of alternating pairs. */
export interface Speedup extends SpeedPoint {
  speedup: number;
  pairs: number;
}

interface TimedSession {
  /** One run on a synthetic batch of this shape (warmed up on first use), in milliseconds. */
  time(point: SpeedPoint): Promise<number>;
  release(): Promise<void>;
}

/**
 * A session timed on synthetic batches (token id 1000, no padding) with the plan's inputs; the first
 * run of each shape is a warm-up. Sessions use ORT's defaults (all graph optimizations).
 */
async function openTimed(file: string): Promise<TimedSession> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  const feeds = new Map<string, Record<string, ort.Tensor>>();
  const feedsOf = async ({ batch, sequence }: SpeedPoint) => {
    const key = `${batch}x${sequence}`;
    let feed = feeds.get(key);
    if (!feed) {
      const shape = [batch, sequence];
      const size = batch * sequence;
      feed = inputFeeds(session.inputNames, {
        inputIds: { dtype: 'int64', shape, data: new BigInt64Array(size).fill(1000n) },
        attentionMask: { dtype: 'int64', shape, data: new BigInt64Array(size).fill(1n) },
      });
      feeds.set(key, feed);
      await session.run(feed);
    }
    return feed;
  };
  return {
    async time(point) {
      const feed = await feedsOf(point);
      const started = performance.now();
      await session.run(feed);
      return performance.now() - started;
    },
    release: () => session.release(),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median latency of one graph over `runs` timed runs. */
export async function measureLatency(file: string, batch: number, sequence: number, runs: number): Promise<Latency> {
  const timed = await openTimed(file);
  try {
    const times: number[] = [];
    for (let run = 0; run < runs; run += 1) times.push(await timed.time({ batch, sequence }));
    return { batch, sequence, ms: median(times) };
  } finally {
    await timed.release();
  }
}

/**
 * How many times faster `candidate` runs than `reference` at each point: both sessions open once and
 * run in turn, and each point's figure is the median of its per-pair ratios, so that a burst of load
 * on a shared machine slows both sides of a pair instead of one graph's whole measurement.
 */
export async function measureSpeedups(
  reference: string,
  candidate: string,
  points: readonly SpeedPoint[],
  pairsAt: (point: SpeedPoint) => number,
): Promise<Speedup[]> {
  const slow = await openTimed(reference);
  try {
    const fast = await openTimed(candidate);
    try {
      const results: Speedup[] = [];
      for (const point of points) {
        const pairs = pairsAt(point);
        const ratios: number[] = [];
        for (let pair = 0; pair < pairs; pair += 1) ratios.push((await slow.time(point)) / (await fast.time(point)));
        results.push({ ...point, speedup: median(ratios), pairs });
      }
      return results;
    } finally {
      await fast.release();
    }
  } finally {
    await slow.release();
  }
}
