import type { OnnxFile } from '../../onnx/model-file.js';
import type { TokenizedBatch } from '../../onnx/session.js';
import type { MatMulMethod, QuantizeOptions } from '../options.js';
import { allowedFlips, calibrationFlips } from '../policy.js';
import { collectLogits, type OutputLogits } from './agreement.js';
import { quantizableMatMuls } from './candidates.js';
import { measureQuantizationErrors } from './error-probe.js';
import { SizeBudget } from './size-budget.js';
import { measureCandidateSpeeds, type SpeedProfile, type SpeedReport } from './speed.js';
import { TrialRunner, type Int8Trial, type TrialGraph } from './trials.js';

export { describeMix } from './trials.js';

/**
 * `dynamic` with at most this share of the MatMuls at higher precision is searched before `per-token`:
 * measured at batch 1 (bench/int8-fidelity.mjs), dynamic runs at ~1.5x FP32, per-token at ~1.25x and a
 * fallback node at 1x, so a quarter of the nodes at 1x leaves dynamic at ~1.3x, still ahead of per-token.
 */
const MIX_SHARE = 0.25;

export interface AutoInt8Input {
  /** The FP32 graph with every task's output (the exported multihead graph). */
  fp32: OnnxFile;
  /** task -> output name in that graph. */
  outputs: Record<string, string>;
  /** task -> the INT8 gate (top-1 agreement); the calibration split must do better (policy's calibrationFlips). */
  gates: Record<string, number>;
  /** The calibration split, tokenized. */
  batches: readonly TokenizedBatch[];
  /** The logits to agree with on those batches, per task and batch (PyTorch's, in an export); else the FP32 graph's. */
  reference?: OutputLogits;
  options: QuantizeOptions;
  workDir: string;
  /** Most candidate graphs to build and run (each costs one quantization and at most one pass over the calibration split). */
  budget: number;
  /** The largest INT8 size as a share of FP32 (float weights kept by the search must fit in it). */
  maxSizeShare: number;
  /** The texts' token lengths and the serving batch size: where the candidates' speed is measured. */
  speed: SpeedProfile;
  /** producer_version of the graphs built (the chosen one is kept). */
  version?: string;
  onProgress?: (message: string) => void;
}

interface Int8Candidate {
  base: MatMulMethod;
  /** MatMul node -> method, for the nodes that do not use `base`. */
  nodeMethods: Record<string, MatMulMethod>;
  agreement: Record<string, number>;
  passed: boolean;
  /** FP32 latency / INT8 latency at batch 1 and the texts' median length. */
  speedup?: number;
}

/** How the choice came about, for the report's note (src/report/int8-note.ts words it). */
type Int8Outcome = 'target' | 'gate' | 'none';

export interface Int8Choice {
  chosen: Int8Candidate;
  /** The trials that reached the target, fastest first (by speed at the texts' median length). */
  candidates: Int8Candidate[];
  trials: Int8Trial[];
  outcome: Int8Outcome;
  /** Relative output error of each MatMul quantized alone, per base method (the ranking). */
  errors: Record<string, Record<string, number>>;
  calibrationSamples: number;
  matmulCount: number;
  /** What the calibration agreement was measured against ("PyTorch" or "FP32 ONNX"). */
  against: string;
  /** task -> the agreement the calibration split had to reach, and the flips that allows. */
  targets: Record<string, number>;
  targetFlips: Record<string, number>;
  /** The chosen graph's speed at the texts' lengths (batch 1 and the serving batch), when a graph was chosen. */
  speed?: SpeedReport;
  budget: number;
  /** The chosen graph as built and measured (in workDir; the caller owns it) and its logits on the calibration batches. */
  graph?: TrialGraph;
  /** The FP32 graph's logits on the calibration batches, when the error probe ran (it keeps every FP32 node unchanged). */
  fp32Logits?: OutputLogits;
}

/** The fewest-fallback trial of a list. */
const fewest = (trials: readonly Int8Trial[]) => [...trials].sort((a, b) => a.fallbackNodes - b.fallbackNodes)[0];

/** The search's state: the trials, the MatMul ranking (measured once, when a mix needs it), the size budget. */
class Search {
  readonly runner: TrialRunner;
  readonly sizes: SizeBudget;
  readonly errors: Int8Choice['errors'] = {};
  fp32Logits?: OutputLogits;
  private ranking?: string[];

  constructor(
    readonly input: AutoInt8Input,
    readonly reference: OutputLogits,
    readonly targetFlips: Record<string, number>,
    readonly gateFlips: Record<string, number>,
    readonly matmulCount: number,
  ) {
    this.sizes = new SizeBudget(input.fp32, input.maxSizeShare);
    this.runner = new TrialRunner({
      ...input,
      reference,
      matmulCount,
      targetFlips,
      gateFlips,
      version: input.version ?? 'auto',
      onProgress: input.onProgress ?? (() => {}),
      onBuilt: (bytes) => this.sizes.measured(bytes),
    });
  }

  /** MatMul names, most damaging first (each node's error when quantized alone). */
  async rank(): Promise<string[]> {
    if (this.ranking) return this.ranking;
    this.input.onProgress?.("dynamic: measuring each MatMul's quantization error");
    const { fp32, options, batches, workDir, outputs } = this.input;
    const probed = await measureQuantizationErrors(fp32, 'dynamic', options, batches, workDir, outputs);
    this.fp32Logits = probed.logits;
    this.errors.dynamic = Object.fromEntries(probed.errors);
    this.ranking = [...probed.errors.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    return this.ranking;
  }

  /** The k most damaging MatMuls at higher precision, the others `base`. */
  async mix(base: MatMulMethod, k: number): Promise<Int8Trial | undefined> {
    const order = await this.rank();
    return this.run(base, this.sizes.fallbacks(order, Math.min(k, order.length)));
  }

  /** A trial; afterwards only the graphs that can still be chosen are kept (disk stays bounded). */
  async run(base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>): Promise<Int8Trial | undefined> {
    const trial = await this.runner.run(base, nodeMethods);
    await this.runner.keepOnly(this.choosable());
    return trial;
  }

  /**
   * What can still be chosen: per family (one method everywhere, a mix, every MatMul at higher
   * precision) the passing trial with the fewest fallbacks; the most precise trial; the
   * fewest-fallback trial at the gate's own allowance.
   */
  private choosable(): Set<Int8Trial | undefined> {
    const kept = this.runner.kept();
    const family = (t: Int8Trial) =>
      t.fallbackNodes === 0 ? t.base : t.fallbackNodes >= this.matmulCount ? 'precise' : `${t.base} mix`;
    const families = new Set(kept.map(family));
    return new Set([
      ...[...families].map((name) => fewest(kept.filter((t) => t.passed && family(t) === name))),
      [...kept].sort((a, b) => b.fallbackNodes - a.fallbackNodes)[0],
      fewest(kept.filter((t) => t.reachesGate)),
    ]);
  }
}

/** Every MatMul `dynamic` (~1.5x FP32): the fastest mix. */
const fastest = (search: Search) => search.run('dynamic', {});
/** Every MatMul at higher precision: 12-bit for the most damaging while the size goal allows, then 10-bit (~1x). */
const mostPrecise = async (search: Search) => search.mix('dynamic', Infinity);
/** Every MatMul `per-token` (~1.25x). */
const perToken = (search: Search) => search.run('per-token', {});

/** `dynamic` with the fewest most-damaging MatMuls at higher precision that passes, by bisection, if MIX_SHARE of them suffice. */
async function fewestFallbackMix(search: Search): Promise<Int8Trial | undefined> {
  const most = Math.max(1, Math.floor(search.matmulCount * MIX_SHARE));
  let high = await search.mix('dynamic', most);
  if (!high?.passed) return undefined;
  let [low, highK] = [0, most];
  while (highK - low > 1) {
    const middle = Math.floor((low + highK) / 2);
    const tried = await search.mix('dynamic', middle);
    if (!tried) break;
    if (tried.passed) [high, highK] = [tried, middle];
    else low = middle;
  }
  return high;
}

/**
 * The stages in order of measured speed. When the fastest misses, the most precise comes next: the
 * mixes between are less precise on every MatMul (8-bit activations and weights, or 8-bit dynamic on
 * most of them), so they are tried only when it reaches the target; otherwise they could pass only
 * by errors that happen to fall the right way on the calibration texts' near-ties, which the judged
 * split would not confirm. Returns the trials that reached the target.
 */
async function runStages(search: Search): Promise<Int8Trial[]> {
  const first = await fastest(search);
  if (first?.passed) return [first];
  const precise = await mostPrecise(search);
  if (!precise?.passed) return [];
  const between = [await fewestFallbackMix(search), await perToken(search)];
  return [...between.filter((trial): trial is Int8Trial => trial?.passed === true), precise];
}

function asCandidate(trial: Int8Trial, passed: boolean, speedup?: number): Int8Candidate {
  return {
    base: trial.base,
    nodeMethods: trial.nodeMethods,
    agreement: trial.agreement,
    passed,
    ...(speedup !== undefined ? { speedup } : {}),
  };
}

/** Nothing reached the target: the fewest-fallback complete trial at the gate, else the most precise one tried. */
function fallbackChoice(search: Search): { trial: Int8Trial; outcome: Int8Outcome } {
  const atGate = fewest(search.runner.kept().filter((trial) => trial.reachesGate));
  if (atGate) return { trial: atGate, outcome: 'gate' };
  // the agreements of trials that stopped early are upper bounds, so they do not rank
  const lowest = (trial: Int8Trial) => Math.min(...Object.values(trial.agreement));
  const [best] = [...search.runner.trials].sort((a, b) => b.fallbackNodes - a.fallbackNodes || lowest(b) - lowest(a));
  return { trial: best!, outcome: 'none' };
}

/**
 * `--int8 auto`: the fastest graph, by speed measured at the texts' own lengths, whose top-1 agreement
 * stays within every task's calibration allowance of flips (policy's calibrationFlips); each trial
 * stops as soon as it has flipped more texts than the gate allows, so failing trials are cheap. If
 * none reaches the target, the fewest-fallback trial that reaches the gate itself is kept, else the
 * most precise one tried. Judging the choice is the verification step's job, on other texts.
 */
export async function chooseInt8(input: AutoInt8Input): Promise<Int8Choice> {
  const progress = input.onProgress ?? (() => {});
  let reference = input.reference;
  if (!reference) {
    progress('running the FP32 graph on the calibration split');
    reference = await collectLogits(input.fp32.file, input.outputs, input.batches);
  }
  const total = input.batches.reduce((sum, batch) => sum + batch.inputIds.shape[0]!, 0);
  const perTask = (limit: (gate: number) => number) =>
    Object.fromEntries(Object.entries(input.gates).map(([task, gate]) => [task, limit(gate)]));
  const targetFlips = perTask((gate) => calibrationFlips(gate, total));
  const gateFlips = perTask((gate) => allowedFlips(gate, total));
  const search = new Search(input, reference, targetFlips, gateFlips, quantizableMatMuls(input.fp32.model).length);
  const passing = await runStages(search);
  const measured =
    passing.length > 0
      ? await measureCandidateSpeeds(input.fp32.file, passing, search.runner, input.speed, progress)
      : undefined;
  const picked = measured ? { trial: measured.order[0]!, outcome: 'target' as const } : fallbackChoice(search);
  await search.runner.keepOnly(new Set([picked.trial]));
  const graph = search.runner.graphOf(picked.trial);
  const speed =
    measured?.report ??
    (graph && picked.outcome === 'gate'
      ? (await measureCandidateSpeeds(input.fp32.file, [picked.trial], search.runner, input.speed, progress)).report
      : undefined);
  const speedupOf = (trial: Int8Trial) => measured?.ranking.get(trial);
  return {
    chosen: asCandidate(picked.trial, picked.outcome !== 'none', speed?.headline),
    candidates: (measured?.order ?? []).map((trial) => asCandidate(trial, true, speedupOf(trial))),
    trials: search.runner.trials,
    outcome: picked.outcome,
    errors: search.errors,
    calibrationSamples: total,
    matmulCount: search.matmulCount,
    against: input.reference ? 'PyTorch' : 'FP32 ONNX',
    targets: Object.fromEntries(
      Object.entries(targetFlips).map(([task, flips]) => [task, total === 0 ? 0 : 1 - flips / total]),
    ),
    targetFlips,
    ...(speed ? { speed } : {}),
    budget: input.budget,
    ...(graph ? { graph } : {}),
    ...(search.fp32Logits ? { fp32Logits: search.fp32Logits } : {}),
  };
}
