import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnnxFile } from '../../onnx/model-file.js';
import type { TokenizedBatch } from '../../verify/onnx-session.js';
import type { MatMulMethod, QuantizeOptions } from '../options.js';
import { quantizeModel } from '../quantize-model.js';
import { elementCount } from '../../onnx/tensor.js';
import { quantizableMatMuls } from './candidates.js';
import { measureQuantizationErrors } from './error-probe.js';
import { measureSpeedup } from './latency.js';
import { collectLogits, topOneAgreement as agreement } from './agreement.js';

/** The MatMul methods `auto` starts from, fastest first; nodes that hurt most fall back to FALLBACK. */
export const AUTO_BASES = ['dynamic', 'per-token'] as const satisfies readonly MatMulMethod[];
export const FALLBACK: MatMulMethod = 'weight-only-10';
/** The most damaging nodes get this instead of FALLBACK while the size goal allows (0.25 byte more per weight). */
export const PRECISE_FALLBACK: MatMulMethod = 'weight-only-12';
/** Issue 10's size goal: an INT8 graph at most this share of the FP32 graph. */
export const MAX_SIZE_SHARE = 0.3;
/** Latency of the choice is measured at batch 1 with this many tokens (RapidFit's default max_length). */
export const SPEED_SEQUENCE = 128;
/** Latencies this close (relative) are noise on a shared machine: the more precise candidate is chosen. */
export const SPEED_TIE = 0.05;

export interface AutoInt8Input {
  /** The FP32 graph with every task's output (the shared trace). */
  fp32: OnnxFile;
  /** task -> output name in that graph. */
  outputs: Record<string, string>;
  /** task -> top-1 agreement with FP32 the calibration split should reach (the gate plus a margin). */
  targets: Record<string, number>;
  /** task -> the INT8 gate: a candidate that misses the margin but reaches this is kept when nothing better passes. */
  gates: Record<string, number>;
  /** The calibration split, tokenized. */
  batches: readonly TokenizedBatch[];
  options: QuantizeOptions;
  workDir: string;
  /** Most candidate graphs to build and run (each costs one quantization and one pass over the calibration split). */
  budget: number;
  /** The speed-up over FP32 at batch 1 below which the report says the choice is slow. */
  speedGoal: number;
  /** The largest INT8 size as a share of FP32 (float weights kept by the search must fit in it). */
  maxSizeShare: number;
  onProgress?: (message: string) => void;
}

export interface Int8Trial {
  base: MatMulMethod;
  nodeMethods: Record<string, MatMulMethod>;
  /** How many of the most damaging MatMuls fell back to FALLBACK. */
  fallbackNodes: number;
  agreement: Record<string, number>;
  passed: boolean;
}

export interface Int8Candidate {
  base: MatMulMethod;
  fallback: MatMulMethod;
  /** MatMul node -> method, for the nodes that do not use `base`. */
  nodeMethods: Record<string, MatMulMethod>;
  agreement: Record<string, number>;
  passed: boolean;
  /** FP32 latency / INT8 latency at batch 1, SPEED_SEQUENCE tokens. */
  speedup?: number;
}

export interface Int8Choice {
  chosen: Int8Candidate;
  candidates: Int8Candidate[];
  trials: Int8Trial[];
  /** Relative output error of each MatMul quantized alone, per base method (the ranking). */
  errors: Record<string, Record<string, number>>;
  calibrationSamples: number;
  targets: Record<string, number>;
  /** One line for the user when the choice misses the speed goal or no candidate passed. */
  note?: string;
}

/**
 * `--int8 auto`: for each base method, rank the MatMuls by the error each does when quantized alone,
 * then find by bisection the fewest most-damaging nodes that must fall back to 10-bit weight-only
 * (12-bit while the size goal allows) for every task to reach its agreement target on the calibration split. Of the passing candidates the
 * fastest at batch 1 wins; among about equally fast ones, the most precise (so that a choice that only
 * just passes on the calibration texts does not stand in for a safer one at no cost). Judging the choice is the verification step's job, on other texts.
 */
export async function chooseInt8(input: AutoInt8Input): Promise<Int8Choice> {
  const progress = input.onProgress ?? (() => {});
  const file = input.fp32.file;
  progress('running the FP32 graph on the calibration split');
  const reference = await collectLogits(file, input.outputs, input.batches);
  const trials: Int8Trial[] = [];
  const candidates: Int8Candidate[] = [];
  const errors: Int8Choice['errors'] = {};
  let built = 0;

  const preciseCost = preciseCosts(input.fp32);
  let preciseBudget: number | undefined;
  const matmulCount = quantizableMatMuls(input.fp32.model).length;
  // one graph, one key: when every MatMul has its own method, the base method no longer matters
  const graphKey = (base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>) =>
    JSON.stringify([Object.keys(nodeMethods).length >= matmulCount ? '' : base, Object.entries(nodeMethods).sort()]);
  const scoresByGraph = new Map<string, Record<string, number>>();
  async function evaluate(base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>): Promise<Record<string, number>> {
    const key = graphKey(base, nodeMethods);
    const known = scoresByGraph.get(key);
    if (known) return known;
    const scores = await build(base, nodeMethods);
    scoresByGraph.set(key, scores);
    return scores;
  }
  async function build(base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>): Promise<Record<string, number>> {
    const trialFile = join(input.workDir, `int8-trial-${built}.onnx`);
    built += 1;
    const result = await quantizeModel(input.fp32, trialFile, { ...input.options, matmul: base, nodeMethods }, 'auto');
    // what the size goal leaves for 12-bit weights: from the first all-INT8 graph (1 byte per weight),
    // less the residuals every MatMul gets when it falls back to 10-bit, less 1% for the per-task graphs' heads
    preciseBudget ??= Math.max(0, (input.maxSizeShare - 0.01) * fp32Bytes(input.fp32) - result.bytes - residualBytes(input.fp32, 2));
    try {
      return agreement(reference, await collectLogits(trialFile, input.outputs, input.batches));
    } finally {
      await rm(trialFile, { force: true });
      if (result.dataFile) await rm(result.dataFile, { force: true });
    }
  }
  const passes = (scores: Record<string, number>) => Object.entries(scores).every(([task, value]) => value >= input.targets[task]!);

  for (const base of AUTO_BASES) {
    if (built >= input.budget) break;
    progress(`${base}: measuring each MatMul's quantization error`);
    const nodeErrors = await measureQuantizationErrors(input.fp32, base, input.options, input.batches, input.workDir);
    errors[base] = Object.fromEntries(nodeErrors);
    const ranking = [...nodeErrors.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    // the most damaging nodes get 12-bit weights while the size goal allows, the next ones 10-bit
    const methodsFor = (k: number) => {
      let spent = 0;
      return Object.fromEntries(
        ranking.slice(0, k).map((name) => {
          const cost = preciseCost.get(name) ?? Infinity;
          if (preciseBudget !== undefined && spent + cost <= preciseBudget) {
            spent += cost;
            return [name, PRECISE_FALLBACK];
          }
          return [name, FALLBACK];
        }),
      ) as Record<string, MatMulMethod>;
    };
    const tried = new Map<number, Record<string, number>>();
    const trial = async (k: number) => {
      progress(`${base}: ${k} of ${ranking.length} MatMuls at higher precision (trial ${built + 1}/${input.budget})`);
      const nodeMethods = methodsFor(k);
      const scores = await evaluate(base, nodeMethods);
      tried.set(k, scores);
      trials.push({ base, nodeMethods, fallbackNodes: k, agreement: scores, passed: passes(scores) });
      return passes(scores);
    };
    let low = -1;
    let high: number | undefined;
    if (await trial(0)) high = 0;
    else if (built < input.budget && (await trial(ranking.length))) {
      low = 0;
      high = ranking.length;
      while (high - low > 1 && built < input.budget) {
        const middle = Math.floor((low + high) / 2);
        if (await trial(middle)) high = middle;
        else low = middle;
      }
    }
    if (high !== undefined) {
      candidates.push({ base, fallback: FALLBACK, nodeMethods: methodsFor(high), agreement: tried.get(high)!, passed: true });
      // the most precise passing trial too: when it is about as fast, it is the safer choice
      if (high !== ranking.length && tried.get(ranking.length) && passes(tried.get(ranking.length)!)) {
        candidates.push({ base, fallback: FALLBACK, nodeMethods: methodsFor(ranking.length), agreement: tried.get(ranking.length)!, passed: true });
      }
      if (high === 0 && base === AUTO_BASES[0]) break; // the fastest method passes as it is
    }
  }

  let relaxed = false;
  if (candidates.length === 0) {
    // no trial reached the margin: the fewest-fallback trial that still reaches the gate itself, if any
    const atGate = trials.filter((t) => Object.entries(t.agreement).every(([task, value]) => value >= input.gates[task]!));
    const best = atGate.sort((a, b) => a.fallbackNodes - b.fallbackNodes)[0];
    if (best) {
      relaxed = true;
      candidates.push({ base: best.base, fallback: FALLBACK, nodeMethods: best.nodeMethods, agreement: best.agreement, passed: true });
    }
  }
  const calibrationSamples = countRows(input.batches);
  const unique = new Map<string, Int8Candidate>();
  for (const candidate of candidates) {
    const key = graphKey(candidate.base, candidate.nodeMethods);
    if (!unique.has(key)) unique.set(key, candidate);
  }
  candidates.splice(0, candidates.length, ...unique.values());
  if (candidates.length > 0) {
    progress('measuring the latency of the passing candidates');
    for (const candidate of candidates) {
      const speedFile = join(input.workDir, 'int8-speed.onnx');
      const result = await quantizeModel(input.fp32, speedFile, { ...input.options, matmul: candidate.base, nodeMethods: candidate.nodeMethods }, 'auto');
      candidate.speedup = await measureSpeedup(file, speedFile, 1, SPEED_SEQUENCE, 15);
      await rm(speedFile, { force: true });
      if (result.dataFile) await rm(result.dataFile, { force: true });
    }
    // the fastest; candidates within SPEED_TIE of it count as equally fast, and the most precise of those wins
    const fastest = Math.max(...candidates.map((c) => c.speedup!));
    const worst = (c: Int8Candidate) => Math.min(...Object.values(c.agreement));
    const chosen = candidates
      .filter((c) => c.speedup! >= fastest * (1 - SPEED_TIE))
      .sort((a, b) => worst(b) - worst(a) || Object.keys(b.nodeMethods).length - Object.keys(a.nodeMethods).length)[0]!;
    const notes = [
      ...(relaxed ? ['no candidate reached the calibration margin; chose one that reaches the gate on the calibration split'] : []),
      ...(chosen.speedup! < input.speedGoal
        ? [`no candidate reaches both the agreement target and ${input.speedGoal}x FP32 speed; chose the fastest that passes (${chosen.speedup!.toFixed(2)}x, ${chosen.base} with ${Object.keys(chosen.nodeMethods).length} MatMuls at higher precision)`]
        : []),
    ];
    return { chosen, candidates, trials, errors, calibrationSamples, targets: input.targets, ...(notes.length > 0 ? { note: `INT8: ${notes.join('; ')}` } : {}) };
  }
  // nothing reached even the gate: keep the trial closest to it (highest worst-task agreement) as the candidate
  const best = [...trials].sort((a, b) => Math.min(...Object.values(b.agreement)) - Math.min(...Object.values(a.agreement)))[0]!;
  return {
    chosen: { base: best.base, fallback: FALLBACK, nodeMethods: best.nodeMethods, agreement: best.agreement, passed: false },
    candidates,
    trials,
    errors,
    calibrationSamples,
    targets: input.targets,
    note: `INT8: no candidate reached the INT8 gate on the calibration split within ${input.budget} trials`,
  };
}

/** Elements of each initializer, by name. */
function initializerSizes(source: OnnxFile): Map<string, number> {
  return new Map((source.model.graph!.initializer ?? []).map((tensor) => [tensor.name ?? '', elementCount(tensor)]));
}

/** Float32 weight bytes of the graph (what FP32 size shares are measured against). */
function fp32Bytes(source: OnnxFile): number {
  return 4 * [...initializerSizes(source).values()].reduce((sum, count) => sum + count, 0);
}

/** The bytes `bits`-bit residuals add to every MatMul weight (FALLBACK's 2 bits per weight). */
function residualBytes(source: OnnxFile, bits: number): number {
  const sizes = initializerSizes(source);
  return quantizableMatMuls(source.model).reduce((sum, c) => sum + ((sizes.get(c.node.input![1]!) ?? 0) * bits) / 8, 0);
}

/** Per MatMul candidate: the bytes its weight adds at 12 bits instead of FALLBACK's 10 (a quarter byte per weight). */
function preciseCosts(source: OnnxFile): Map<string, number> {
  const sizes = initializerSizes(source);
  return new Map(quantizableMatMuls(source.model).map((c) => [c.name, (sizes.get(c.node.input![1]!) ?? Infinity) / 4]));
}

function countRows(batches: readonly TokenizedBatch[]): number {
  return batches.reduce((sum, batch) => sum + batch.inputIds.shape[0]!, 0);
}
