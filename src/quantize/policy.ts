import type { QuantizeOptions } from './options.js';

/**
 * The INT8 policy in one place: the methods a user can pick, what `auto` starts from, what a fixed
 * method writes, and the goals and shares the search and the report measure against.
 */

export const INT8_MODES = ['auto', 'dynamic', 'per-token', 'weight-only', 'weight-only-10', 'weight-only-12'] as const;
export type Int8Mode = (typeof INT8_MODES)[number];

/** The seed of the verification samples' order and of the INT8 calibration split. */
export const SAMPLE_SEED = 20251125;

/** The speed-up over FP32 at batch 1 the INT8 graphs should reach (issue 10's goal). */
export const INT8_SPEED_GOAL = 1.5;

/** Issue 10's size goal: an INT8 graph at most this share of the FP32 graph. */
export const MAX_SIZE_SHARE = 0.3;

/** Embedding tables up to this share of the weights stay float outside `dynamic`: position and token-type tables. */
const SMALL_TABLE_SHARE = 0.01;

/** The most of `total` texts that may disagree while still reaching `gate` agreement. */
export function allowedFlips(gate: number, total: number): number {
  return Math.max(0, Math.floor(total * (1 - gate) + 1e-9));
}

/**
 * The most texts the calibration split may flip: half of what the gate allows, rounded up, and never
 * more than the gate itself allows. The margin keeps a choice that barely passes on the texts it was
 * tuned on from failing on the judged ones; rounding up keeps a small split from demanding no flip at
 * all (at 0.99, 106 texts allow 1 flip, not 0; 1,000 texts 5).
 */
export function calibrationFlips(gate: number, total: number): number {
  return Math.max(0, Math.min(allowedFlips(gate, total), Math.ceil((total * (1 - gate)) / 2 - 1e-9)));
}

/** What `auto` starts from: the user's options with per-channel int8 weights, per-column embedding tables, small tables float. */
export function autoBaseOptions(options: QuantizeOptions): QuantizeOptions {
  return {
    ...options,
    perChannel: true,
    weightType: 'int8',
    gather: 'per-column',
    gatherFloatShare: SMALL_TABLE_SHARE,
  };
}

/**
 * The options of a fixed method: the user's quantize options with every MatMul rewritten by that
 * method; the others than dynamic (which stays ORT's) also store embedding tables per column and keep
 * small tables float.
 */
export function fixedMethodOptions(mode: Exclude<Int8Mode, 'auto'>, options: QuantizeOptions): QuantizeOptions {
  return {
    ...options,
    matmul: mode,
    ...(mode === 'dynamic' ? {} : { gather: 'per-column' as const, gatherFloatShare: SMALL_TABLE_SHARE }),
  };
}
