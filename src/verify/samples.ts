import { shuffled } from '../samples/order.js';
import { stratifiedHalves, stratifiedSubsample, stratumOf } from '../samples/split.js';
import { describeUserSamples, type UserSamples } from '../samples/user-samples.js';
import { EMBEDDED_SAMPLES } from './sample-texts.js';

/**
 * Batch sizes cycle so that padding differs from batch to batch (and batch 1 has none). Texts are
 * batched in length order (byLength), so the padding stays small: every graph run costs what the
 * texts cost, not what one long text in a batch of short ones costs. Past the first CYCLED_TEXTS texts
 * of a split, batches hold LARGE_BATCH texts: thousands of user texts need no more variety, and each
 * batch is one bridge round trip.
 */
const BATCH_SIZES = [1, 4, 16, 7, 32, 3];
const CYCLED_TEXTS = 256;
const LARGE_BATCH = 32;

export interface SampleBatch {
  firstIndex: number;
  texts: string[];
}

export function batchSamples(texts: readonly string[]): SampleBatch[] {
  const batches: SampleBatch[] = [];
  let index = 0;
  let size = 0;
  while (index < texts.length) {
    const take = index >= CYCLED_TEXTS ? LARGE_BATCH : BATCH_SIZES[size % BATCH_SIZES.length]!;
    batches.push({ firstIndex: index, texts: texts.slice(index, index + take) });
    index += take;
    size += 1;
  }
  return batches;
}

/**
 * Which texts a batch holds: the ones the INT8 choice is tuned on, the ones it is judged on, and,
 * when the user gave texts, the embedded ones (robustness probes: gated for FP32, reported for INT8).
 */
const SAMPLE_SPLITS = ['calibration', 'judged', 'embedded'] as const;
export type SampleSplit = (typeof SAMPLE_SPLITS)[number];

/** The most calibration texts the INT8 search runs (more go to the judged split); the most judged texts. */
export const MAX_CALIBRATION_TEXTS = 2000;
export const MAX_JUDGED_TEXTS = 20_000;

export interface SampleSet {
  source: string;
  seed: number;
  /** The texts, split after split in SAMPLE_SPLITS order. */
  texts: string[];
  /** Per text: task -> gold label id, where the samples file gave one. */
  gold?: Array<Record<string, number> | undefined>;
  /** Texts per split. */
  splits: Record<SampleSplit, number>;
  /** Where the texts come from, and what was set aside (counts for the report). */
  origin: SampleOrigin;
}

interface SampleOrigin {
  embedded: number;
  user?: { files: UserSamples['files']; texts: number; merged: number; labelled: number };
  /** User texts of the calibration half past MAX_CALIBRATION_TEXTS, judged instead. */
  movedToJudged?: number;
  /** User texts past MAX_JUDGED_TEXTS, not used (stratified subsample). */
  leftOut?: number;
}

export function embeddedSamples(seed: number, limit?: number): string[] {
  const texts = shuffled(EMBEDDED_SAMPLES, seed);
  return limit === undefined ? texts : texts.slice(0, limit);
}

interface Pool {
  texts: readonly string[];
  gold: ReadonlyArray<Record<string, number> | undefined>;
}

function pick(pool: Pool, indices: readonly number[]) {
  return { texts: indices.map((index) => pool.texts[index]!), gold: indices.map((index) => pool.gold[index]) };
}

/** Halves of the pool (stratified by labels), the calibration half capped; the judged split capped. */
function tunedSplits(pool: Pool, seed: number) {
  const keys = pool.gold.map(stratumOf);
  const halves = stratifiedHalves(keys, seed);
  const calibration = stratifiedSubsample(halves.first, keys, MAX_CALIBRATION_TEXTS);
  const judged = stratifiedSubsample([...halves.second, ...calibration.dropped], keys, MAX_JUDGED_TEXTS);
  return {
    calibration: pick(pool, calibration.kept),
    judged: pick(pool, judged.kept),
    movedToJudged: calibration.dropped.length,
    leftOut: judged.dropped.length,
  };
}

/** Every text judged, in the pool's order (a seeded, stratified subsample past MAX_JUDGED_TEXTS). */
function judgedOnly(pool: Pool, seed: number) {
  const indices = pool.texts.map((_, index) => index);
  const judged = stratifiedSubsample(shuffled(indices, seed), pool.gold.map(stratumOf), MAX_JUDGED_TEXTS);
  const kept = new Set(judged.kept);
  return {
    calibration: pick(pool, []),
    judged: pick(
      pool,
      indices.filter((index) => kept.has(index)),
    ),
    movedToJudged: 0,
    leftOut: judged.dropped.length,
  };
}

/**
 * The verification texts and their splits. With the user's texts, they alone choose the INT8 graph
 * (calibration) and judge its gate (judged), split in seeded, label-stratified halves; the embedded
 * texts become the `embedded` split. Without them, the embedded texts are split instead. Without
 * tuning (a fixed INT8 method, or no INT8), the texts that would be split are all judged.
 */
export function planSamples(input: {
  seed: number;
  embedded: readonly string[];
  user?: UserSamples;
  tuned: boolean;
}): SampleSet {
  const { seed, embedded, user, tuned } = input;
  const pool: Pool = user ? user : { texts: embedded, gold: embedded.map(() => undefined) };
  const split = tuned ? tunedSplits(pool, seed) : judgedOnly(pool, seed);
  const probes = user ? [...embedded] : [];
  const texts = [...split.calibration.texts, ...split.judged.texts, ...probes];
  const gold = [...split.calibration.gold, ...split.judged.gold, ...probes.map(() => undefined)];
  const source = user
    ? `${describeUserSamples(user)}${embedded.length > 0 ? ` + ${embedded.length} embedded` : ''}`
    : 'embedded';
  return {
    source,
    seed,
    texts,
    ...(gold.some((labels) => labels !== undefined) ? { gold } : {}),
    splits: { calibration: split.calibration.texts.length, judged: split.judged.texts.length, embedded: probes.length },
    origin: {
      embedded: embedded.length,
      ...(user
        ? {
            user: {
              files: user.files,
              texts: user.texts.length,
              merged: user.merged,
              labelled: user.gold.filter((labels) => labels !== undefined).length,
            },
          }
        : {}),
      ...(split.movedToJudged > 0 ? { movedToJudged: split.movedToJudged } : {}),
      ...(split.leftOut > 0 ? { leftOut: split.leftOut } : {}),
    },
  };
}

/** [first, end) of each split in the texts. */
export function splitRanges(samples: Pick<SampleSet, 'splits'>): Array<[SampleSplit, number, number]> {
  let start = 0;
  return SAMPLE_SPLITS.map((split) => {
    const range: [SampleSplit, number, number] = [split, start, start + samples.splits[split]];
    start += samples.splits[split];
    return range;
  });
}

/**
 * The samples with each split in order of length (`lengths`, per text: token counts, or characters by
 * default), shortest first (stable), gold labels alongside: batched in this order, texts of similar
 * length share a batch. Membership of the splits does not change.
 */
export function byLength(
  samples: SampleSet,
  lengths: readonly number[] = samples.texts.map((text) => text.length),
): SampleSet {
  const sortRange = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, offset) => from + offset).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const order = splitRanges(samples).flatMap(([, from, to]) => sortRange(from, to));
  return {
    ...samples,
    texts: order.map((index) => samples.texts[index]!),
    ...(samples.gold ? { gold: order.map((index) => samples.gold![index]) } : {}),
  };
}
