import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnnxFile } from '../../onnx/model-file.js';
import type { TokenizedBatch } from '../../onnx/session.js';
import type { MatMulMethod, QuantizeOptions } from '../options.js';
import { quantizeModel } from '../quantize-model.js';
import { elementCount } from '../../onnx/tensor.js';
import { quantizableMatMuls } from './candidates.js';
import { measureQuantizationErrors } from './error-probe.js';
import { measureSpeedup } from './latency.js';
import { agreementWithin, collectLogits, type OutputLogits } from './agreement.js';

/** The higher precision the most damaging MatMuls fall back to. */
export const FALLBACK: MatMulMethod = 'weight-only-10';
/** The most damaging nodes get this instead of FALLBACK while the size goal allows (0.25 byte more per weight). */
export const PRECISE_FALLBACK: MatMulMethod = 'weight-only-12';
/** Latency of the choice is measured at batch 1 with this many tokens (RapidFit's default max_length). */
export const SPEED_SEQUENCE = 128;
/** FP32/INT8 run pairs the speed-up is the median of (one pair is ~0.1 s for MiniLM on 2 cores). */
export const SPEED_PAIRS = 7;
/**
 * `dynamic` with at most this share of the MatMuls at higher precision is searched before `per-token`:
 * measured at batch 1 (bench/int8-fidelity.mjs), dynamic runs at ~1.5x FP32, per-token at ~1.25x and a
 * fallback node at 1x, so a quarter of the nodes at 1x leaves dynamic at ~1.3x, still ahead of per-token.
 */
export const MIX_SHARE = 0.25;

export interface AutoInt8Input {
  /** The FP32 graph with every task's output (the shared trace). */
  fp32: OnnxFile;
  /** task -> output name in that graph. */
  outputs: Record<string, string>;
  /** task -> top-1 agreement the calibration split should reach (the gate plus a margin). */
  targets: Record<string, number>;
  /** task -> the INT8 gate: a candidate that misses the margin but reaches this is kept when nothing better passes. */
  gates: Record<string, number>;
  /** The calibration split, tokenized. */
  batches: readonly TokenizedBatch[];
  /**
   * The logits to agree with on those batches, per task and batch (PyTorch's, in an export). Without
   * them the FP32 graph is run once to get them.
   */
  reference?: OutputLogits;
  options: QuantizeOptions;
  workDir: string;
  /** Most candidate graphs to build and run (each costs one quantization and at most one pass over the calibration split). */
  budget: number;
  /** The speed-up over FP32 at batch 1 below which the report says the choice is slow. */
  speedGoal: number;
  /** The largest INT8 size as a share of FP32 (float weights kept by the search must fit in it). */
  maxSizeShare: number;
  /** producer_version of the graphs built (the chosen one is kept). */
  version?: string;
  onProgress?: (message: string) => void;
}

export interface Int8Trial {
  base: MatMulMethod;
  nodeMethods: Record<string, MatMulMethod>;
  /** How many of the most damaging MatMuls fell back to FALLBACK. */
  fallbackNodes: number;
  /** Top-1 agreement per task; an upper bound when the trial stopped early. */
  agreement: Record<string, number>;
  passed: boolean;
  /** The trial disagreed on more texts than the gate allows before the end of the split, and stopped there. */
  stoppedEarly?: boolean;
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

/** A trial's graph in workDir and, when it ran on the whole calibration split, its outputs there. */
export interface TrialGraph {
  file: string;
  dataFile?: string;
  logits?: OutputLogits;
}

export interface Int8Choice {
  chosen: Int8Candidate;
  candidates: Int8Candidate[];
  trials: Int8Trial[];
  /** Relative output error of each MatMul quantized alone, per base method (the ranking). */
  errors: Record<string, Record<string, number>>;
  calibrationSamples: number;
  /** Quantizable MatMuls in the graph. */
  matmulCount: number;
  /** What the calibration agreement was measured against ("PyTorch" or "FP32 ONNX"). */
  against: string;
  targets: Record<string, number>;
  /** One line for the user when the choice misses the speed goal or no candidate passed. */
  note?: string;
  /** The chosen graph as built and measured (in workDir; the caller owns it), when a trial was chosen, and its logits on the calibration batches. */
  graph?: TrialGraph;
  /**
   * The FP32 graph's logits on the calibration batches, per task and batch, when the error probe ran
   * (it keeps every FP32 node unchanged and ran the whole split).
   */
  fp32Logits?: OutputLogits;
}

/** A mix in words: "dynamic", "dynamic + 10 of 42 MatMuls at higher precision", "every MatMul at higher precision". */
export function describeMix(
  base: MatMulMethod,
  nodeMethods: Record<string, MatMulMethod>,
  matmulCount: number,
): string {
  const fallbacks = Object.keys(nodeMethods).length;
  if (fallbacks >= matmulCount) return 'every MatMul at higher precision';
  return fallbacks > 0 ? `${base} + ${fallbacks} of ${matmulCount} MatMuls at higher precision` : base;
}

/** The most rows of `total` that may disagree while still reaching `share` agreement. */
function allowedFlips(share: number, total: number): number {
  return Math.max(0, Math.floor(total * (1 - share) + 1e-9));
}

/**
 * `--int8 auto`: the first graph, in order of measured speed, whose top-1 agreement reaches every
 * task's target on the calibration split:
 *   1. every MatMul `dynamic` (~1.5x FP32);
 *   2. `dynamic` with the fewest most-damaging MatMuls at higher precision, found by bisection, if at
 *      most MIX_SHARE of them suffice (the ranking: each node's error when quantized alone);
 *   3. every MatMul `per-token` (~1.25x);
 *   4. every MatMul at higher precision: 12-bit weight-only for the most damaging while the size goal
 *      allows, then 10-bit (~1x).
 * When 1 misses, 4 is tried next: 2 and 3 are less precise on every MatMul, so they are tried only
 * when 4 reaches the target (4 is kept if neither does). Each trial stops as soon as it disagrees on
 * more texts than the gate allows, so failing trials are cheap. If none reaches the target, the trial
 * with the fewest fallbacks that reaches the gate itself is kept, and the report says so. Judging the
 * choice is the verification step's job, on other texts.
 */
export async function chooseInt8(input: AutoInt8Input): Promise<Int8Choice> {
  const progress = input.onProgress ?? (() => {});
  const file = input.fp32.file;
  let reference = input.reference;
  if (!reference) {
    progress('running the FP32 graph on the calibration split');
    reference = await collectLogits(file, input.outputs, input.batches);
  }
  const calibrationSamples = countRows(input.batches);
  const gateFlips = Object.fromEntries(
    Object.entries(input.gates).map(([task, gate]) => [task, allowedFlips(gate, calibrationSamples)]),
  );
  const trials: Int8Trial[] = [];
  const errors: Int8Choice['errors'] = {};
  const matmuls = quantizableMatMuls(input.fp32.model).length;
  const preciseCost = preciseCosts(input.fp32);
  let preciseBudget: number | undefined;
  let built = 0;
  const reaches = (scores: Record<string, number>, limits: Record<string, number>) =>
    Object.entries(scores).every(([task, value]) => value >= limits[task]!);
  const passes = (scores: Record<string, number>) => reaches(scores, input.targets);
  const reachesGate = (scores: Record<string, number>) => reaches(scores, input.gates);
  const fewestFallbacks = (list: Int8Trial[]) => [...list].sort((a, b) => a.fallbackNodes - b.fallbackNodes)[0];
  // one graph, one key: when every MatMul has its own method, the base method no longer matters
  const graphKey = (base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>) =>
    JSON.stringify([Object.keys(nodeMethods).length >= matmuls ? '' : base, Object.entries(nodeMethods).sort()]);
  const known = new Map<string, Int8Trial>();
  const graphs = new Map<Int8Trial, TrialGraph>();

  async function trial(base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>): Promise<Int8Trial | undefined> {
    const key = graphKey(base, nodeMethods);
    const seen = known.get(key);
    if (seen) return seen;
    if (built >= input.budget) return undefined;
    built += 1;
    const fallbackNodes = Object.keys(nodeMethods).length;
    progress(`${describeMix(base, nodeMethods, matmuls)} (trial ${built}/${input.budget})`);
    const trialFile = join(input.workDir, `int8-trial-${built}.onnx`);
    const result = await quantizeModel(
      input.fp32,
      trialFile,
      { ...input.options, matmul: base, nodeMethods },
      input.version ?? 'auto',
    );
    // what the size goal leaves for 12-bit weights: from the first all-INT8 graph (1 byte per weight),
    // less the residuals every MatMul gets when it falls back to 10-bit, less 1% for the per-task graphs' heads
    preciseBudget ??= Math.max(
      0,
      (input.maxSizeShare - 0.01) * fp32Bytes(input.fp32) - result.bytes - residualBytes(input.fp32, 2),
    );
    const graph: TrialGraph = { file: trialFile, ...(result.dataFile ? { dataFile: result.dataFile } : {}) };
    let keep = false;
    try {
      const scored = await agreementWithin(trialFile, input.outputs, input.batches, reference!, gateFlips);
      const done: Int8Trial = {
        base,
        nodeMethods,
        fallbackNodes,
        agreement: scored.agreement,
        passed: scored.complete && passes(scored.agreement),
        ...(scored.complete ? {} : { stoppedEarly: true }),
      };
      trials.push(done);
      known.set(key, done);
      // a graph that can still be chosen (it ran on the whole split) is kept, so that the choice is not built twice
      keep = scored.complete;
      if (keep) {
        graphs.set(done, { ...graph, ...(scored.logits ? { logits: scored.logits } : {}) });
        await keepOnlyChoosable();
      }
      return done;
    } finally {
      if (!keep) await removeGraph(graph);
    }
  }
  // at most three graphs can still be chosen: the fewest-fallback passing one, the fewest-fallback one at
  // the gate (the relaxed choice) and the most precise one (when nothing reaches the gate)
  async function keepOnlyChoosable(): Promise<void> {
    const kept = [...graphs.keys()];
    const wanted = new Set([
      fewestFallbacks(kept.filter((t) => t.passed)),
      fewestFallbacks(kept.filter((t) => reachesGate(t.agreement))),
      [...kept].sort((a, b) => b.fallbackNodes - a.fallbackNodes)[0],
    ]);
    for (const trialDone of kept) {
      if (wanted.has(trialDone)) continue;
      await removeGraph(graphs.get(trialDone)!);
      graphs.delete(trialDone);
    }
  }

  let ranking: string[] | undefined;
  let fp32Logits: OutputLogits | undefined;
  const rank = async () => {
    if (ranking) return ranking;
    progress("dynamic: measuring each MatMul's quantization error");
    const probed = await measureQuantizationErrors(
      input.fp32,
      'dynamic',
      input.options,
      input.batches,
      input.workDir,
      input.outputs,
    );
    const nodeErrors = probed.errors;
    fp32Logits = probed.logits;
    errors.dynamic = Object.fromEntries(nodeErrors);
    ranking = [...nodeErrors.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    return ranking;
  };
  // the k most damaging nodes at higher precision: 12-bit while the size goal allows, then 10-bit
  const fallbacks = (order: string[], k: number) => {
    let spent = 0;
    return Object.fromEntries(
      order.slice(0, k).map((name) => {
        const cost = preciseCost.get(name) ?? Infinity;
        if (preciseBudget !== undefined && spent + cost <= preciseBudget) {
          spent += cost;
          return [name, PRECISE_FALLBACK];
        }
        return [name, FALLBACK];
      }),
    ) as Record<string, MatMulMethod>;
  };

  // the fewest most-damaging MatMuls at higher precision that pass, by bisection, if MIX_SHARE of them suffice
  const fewestFallbackMix = async () => {
    const order = await rank();
    const most = Math.max(1, Math.floor(order.length * MIX_SHARE));
    let high = await trial('dynamic', fallbacks(order, most));
    if (!high?.passed) return undefined;
    let low = 0;
    let highK = most;
    while (highK - low > 1) {
      const middle = Math.floor((low + highK) / 2);
      const tried = await trial('dynamic', fallbacks(order, middle));
      if (!tried) break;
      if (tried.passed) [high, highK] = [tried, middle];
      else low = middle;
    }
    return high;
  };
  const mostPrecise = async () => {
    const order = await rank();
    return trial('dynamic', fallbacks(order, order.length));
  };

  let chosenTrial: Int8Trial | undefined;
  const fastest = await trial('dynamic', {});
  if (fastest?.passed) {
    chosenTrial = fastest;
  } else {
    // the most precise candidate next: the ones between are less precise on every MatMul (8-bit
    // activations and weights, or 8-bit dynamic on most of them), so they are tried only when it
    // reaches the target; otherwise they could pass only by errors that happen to fall the right way
    // on the calibration texts' near-ties, which the judged split would not confirm
    const precise = await mostPrecise();
    if (precise?.passed) {
      for (const stage of [fewestFallbackMix, () => trial('per-token', {})]) {
        const found = await stage();
        if (found?.passed) {
          chosenTrial = found;
          break;
        }
      }
      chosenTrial ??= precise;
    }
  }
  let relaxed = false;
  if (!chosenTrial) {
    // no trial reached the margin: the fewest-fallback complete trial that still reaches the gate itself, if any
    chosenTrial = fewestFallbacks([...graphs.keys()].filter((t) => reachesGate(t.agreement)));
    relaxed = chosenTrial !== undefined;
  }
  // nothing reached even the gate: the most precise trial is the candidate (the agreements of trials
  // that stopped early are upper bounds, so they do not rank)
  const best =
    chosenTrial ??
    [...trials].sort(
      (a, b) =>
        b.fallbackNodes - a.fallbackNodes ||
        Math.min(...Object.values(b.agreement)) - Math.min(...Object.values(a.agreement)),
    )[0]!;
  for (const [trialDone, graph] of graphs) if (trialDone !== best) await removeGraph(graph);
  const against = input.reference ? 'PyTorch' : 'FP32 ONNX';
  const measured = {
    trials,
    errors,
    calibrationSamples,
    matmulCount: matmuls,
    against,
    targets: input.targets,
    ...(fp32Logits ? { fp32Logits } : {}),
  };
  if (chosenTrial) {
    const chosen: Int8Candidate = {
      base: chosenTrial.base,
      fallback: FALLBACK,
      nodeMethods: chosenTrial.nodeMethods,
      agreement: chosenTrial.agreement,
      passed: true,
    };
    const graph = graphs.get(chosenTrial)!;
    progress('measuring the speed of the choice against FP32');
    chosen.speedup = await measureSpeedup(file, graph.file, 1, SPEED_SEQUENCE, SPEED_PAIRS);
    const notes = [
      ...(relaxed
        ? ['no candidate reached the calibration margin; chose one that reaches the gate on the calibration split']
        : []),
      ...(chosen.speedup < input.speedGoal
        ? [
            `no candidate reaches both the agreement target and ${input.speedGoal}x FP32 speed; chose the fastest that passes (${chosen.speedup.toFixed(2)}x, ${describeMix(chosen.base, chosen.nodeMethods, matmuls)})`,
          ]
        : []),
    ];
    return {
      chosen,
      candidates: [chosen],
      ...measured,
      graph,
      ...(notes.length > 0 ? { note: `INT8: ${notes.join('; ')}` } : {}),
    };
  }
  const bestGraph = graphs.get(best);
  return {
    chosen: {
      base: best.base,
      fallback: FALLBACK,
      nodeMethods: best.nodeMethods,
      agreement: best.agreement,
      passed: false,
    },
    candidates: [],
    ...measured,
    note: `INT8: no candidate reached the INT8 gate on the calibration split (${trials.length} trial(s), budget ${input.budget}); wrote the most precise one tried (${describeMix(best.base, best.nodeMethods, matmuls)}), which the judged split decides`,
    ...(bestGraph ? { graph: bestGraph } : {}),
  };
}

async function removeGraph(graph: { file: string; dataFile?: string }): Promise<void> {
  await rm(graph.file, { force: true });
  if (graph.dataFile) await rm(graph.dataFile, { force: true });
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
