import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnnxFile } from '../../onnx/model-file.js';
import type { TokenizedBatch } from '../../onnx/session.js';
import type { MatMulMethod, QuantizeOptions } from '../options.js';
import { writeQuantizedGraph } from '../quantize-model.js';
import { agreementWithin, type OutputLogits } from './agreement.js';

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

/** A trial's graph in the work dir and, when it ran on the whole calibration split, its outputs there. */
export interface TrialGraph {
  file: string;
  dataFile?: string;
  logits?: OutputLogits;
}

export interface Int8Trial {
  base: MatMulMethod;
  nodeMethods: Record<string, MatMulMethod>;
  /** How many of the most damaging MatMuls fell back to higher precision. */
  fallbackNodes: number;
  /** Top-1 agreement per task; an upper bound when the trial stopped early. */
  agreement: Record<string, number>;
  /** Texts per task whose top-1 differs from the reference's (a lower bound when it stopped early). */
  flips: Record<string, number>;
  /** Every task within its calibration allowance of flips, on the whole split. */
  passed: boolean;
  /** Every task within the gate's own allowance, on the whole split. */
  reachesGate: boolean;
  /** It disagreed on more texts than the gate allows before the end of the split, and stopped there. */
  stoppedEarly?: boolean;
}

export interface TrialSetup {
  fp32: OnnxFile;
  outputs: Record<string, string>;
  batches: readonly TokenizedBatch[];
  reference: OutputLogits;
  options: QuantizeOptions;
  workDir: string;
  budget: number;
  matmulCount: number;
  /** task -> the most flips the calibration split may show (the target), and the gate allows. */
  targetFlips: Record<string, number>;
  gateFlips: Record<string, number>;
  version: string;
  onProgress: (message: string) => void;
  /** Called with the size of the first graph built (the size budget is set from it). */
  onBuilt?: (bytes: number) => void;
}

/**
 * Builds and runs the search's trials: each candidate mix quantized once (identical graphs share one
 * trial), run on the calibration split until it has flipped more texts than the gate allows, and its
 * graph kept only while it can still be chosen (the caller releases it).
 */
export class TrialRunner {
  readonly trials: Int8Trial[] = [];
  private readonly known = new Map<string, Int8Trial>();
  private readonly graphs = new Map<Int8Trial, TrialGraph>();
  private built = 0;

  constructor(private readonly setup: TrialSetup) {}

  /** One graph, one key: when every MatMul has its own method, the base method no longer matters. */
  private key(base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>): string {
    const everyNode = Object.keys(nodeMethods).length >= this.setup.matmulCount;
    return JSON.stringify([everyNode ? '' : base, Object.entries(nodeMethods).sort()]);
  }

  /** The trial of a mix (run now, or the identical one run before); undefined once the budget is spent. */
  async run(base: MatMulMethod, nodeMethods: Record<string, MatMulMethod>): Promise<Int8Trial | undefined> {
    const key = this.key(base, nodeMethods);
    const seen = this.known.get(key);
    if (seen) return seen;
    if (this.built >= this.setup.budget) return undefined;
    this.built += 1;
    const { setup } = this;
    setup.onProgress(`${describeMix(base, nodeMethods, setup.matmulCount)} (trial ${this.built}/${setup.budget})`);
    const file = join(setup.workDir, `int8-trial-${this.built}.onnx`);
    const result = await writeQuantizedGraph(
      setup.fp32,
      file,
      { ...setup.options, matmul: base, nodeMethods },
      setup.version,
    );
    setup.onBuilt?.(result.bytes);
    const graph: TrialGraph = { file, ...(result.dataFile ? { dataFile: result.dataFile } : {}) };
    try {
      const scored = await agreementWithin(file, setup.outputs, setup.batches, setup.reference, setup.gateFlips);
      const within = (limits: Record<string, number>) =>
        scored.complete && Object.entries(scored.flips).every(([task, flips]) => flips <= limits[task]!);
      const trial: Int8Trial = {
        base,
        nodeMethods,
        fallbackNodes: Object.keys(nodeMethods).length,
        agreement: scored.agreement,
        flips: scored.flips,
        passed: within(setup.targetFlips),
        reachesGate: within(setup.gateFlips),
        ...(scored.complete ? {} : { stoppedEarly: true }),
      };
      this.trials.push(trial);
      this.known.set(key, trial);
      if (scored.complete) this.graphs.set(trial, { ...graph, ...(scored.logits ? { logits: scored.logits } : {}) });
      else await removeGraph(graph);
      return trial;
    } catch (error) {
      await removeGraph(graph);
      throw error;
    }
  }

  /** The graph of a trial that ran on the whole split, while it is kept. */
  graphOf(trial: Int8Trial): TrialGraph | undefined {
    return this.graphs.get(trial);
  }

  /** Removes the graphs of every trial but these. */
  async keepOnly(keep: ReadonlySet<Int8Trial | undefined>): Promise<void> {
    for (const [trial, graph] of [...this.graphs]) {
      if (keep.has(trial)) continue;
      await removeGraph(graph);
      this.graphs.delete(trial);
    }
  }

  /** The complete trials whose graphs are kept. */
  kept(): Int8Trial[] {
    return [...this.graphs.keys()];
  }
}

async function removeGraph(graph: { file: string; dataFile?: string }): Promise<void> {
  await rm(graph.file, { force: true });
  if (graph.dataFile) await rm(graph.dataFile, { force: true });
}
