import { measureSpeedups, type SpeedPoint, type Speedup } from './latency.js';
import type { TrialRunner, Int8Trial } from './trials.js';

/** Where INT8's speed is measured: the texts' token lengths, the serving batch size, RapidFit's max_length. */
export interface SpeedProfile {
  /** Median and 95th-percentile token count of the texts the choice is made for. */
  p50: number;
  p95: number;
  batchSize: number;
  maxLength: number;
}

/** The chosen graph's speed-ups over FP32; `headline` is batch 1 at the median length (what ranks candidates). */
export interface SpeedReport {
  profile: SpeedProfile;
  headline: number;
  points: Speedup[];
}

/** Sorted token counts -> their median and 95th percentile (at least 1 token). */
export function lengthQuantiles(sorted: readonly number[]): { p50: number; p95: number } {
  const at = (q: number) => Math.max(1, sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 1);
  return { p50: at(0.5), p95: at(0.95) };
}

/** Batch 1 at the median length: the request a service serves most. */
const headlinePoint = (profile: SpeedProfile): SpeedPoint => ({ batch: 1, sequence: profile.p50 });

/**
 * What the report states: batch 1 at the median, the 95th percentile and max_length (the figure at 128
 * tokens earlier runs gave), and the serving batch at the median (at the 95th percentile a batch of 32
 * MiniLM texts costs ~0.6 s per FP32 run: too slow to measure on every export).
 */
function reportPoints(profile: SpeedProfile): SpeedPoint[] {
  const points = [
    headlinePoint(profile),
    { batch: 1, sequence: profile.p95 },
    { batch: 1, sequence: profile.maxLength },
    { batch: profile.batchSize, sequence: profile.p50 },
  ];
  return points.filter(
    (point, index) => points.findIndex((p) => p.batch === point.batch && p.sequence === point.sequence) === index,
  );
}

/** Pairs per point: batch-1 runs are cheap (median of 7), batched ones are not (median of 3). */
const pairsAt = (point: SpeedPoint) => (point.batch === 1 ? 7 : 3);

/**
 * The trials' speed at batch 1 and the texts' median length, fastest first, then the fastest one's
 * speed at every report point (one pair of sessions per graph).
 */
export async function measureCandidateSpeeds(
  fp32File: string,
  trials: readonly Int8Trial[],
  runner: TrialRunner,
  profile: SpeedProfile,
  progress: (message: string) => void,
): Promise<{ order: Int8Trial[]; ranking: Map<Int8Trial, number>; report: SpeedReport }> {
  const ranking = new Map<Int8Trial, number>();
  if (trials.length > 1) {
    progress(`measuring ${trials.length} candidates' speed at ${profile.p50} tokens`);
    for (const trial of trials) {
      const [speed] = await measureSpeedups(fp32File, runner.graphOf(trial)!.file, [headlinePoint(profile)], () => 5);
      ranking.set(trial, speed!.speedup);
    }
  }
  const order = [...trials].sort((a, b) => (ranking.get(b) ?? 0) - (ranking.get(a) ?? 0));
  progress('measuring the speed of the choice against FP32');
  const points = await measureSpeedups(fp32File, runner.graphOf(order[0]!)!.file, reportPoints(profile), pairsAt);
  const headline = points[0]!.speedup;
  ranking.set(order[0]!, headline);
  return { order, ranking, report: { profile, headline, points } };
}
