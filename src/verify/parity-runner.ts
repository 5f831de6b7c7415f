import { basename } from 'node:path';
import type { LogitsBatch } from '../metrics/logits.js';
import type { ClassifierSession } from '../onnx/session.js';
import { ProgressLine } from '../progress.js';
import { multiheadComparison, type Variant } from '../plan/variants.js';
import { comparisonFor, measuredCheckBatches, type MultiheadGraphs } from './parity-plan.js';
import type { ParityResults } from './parity-results.js';
import { maxDifference, tokenizedBatch, type StoredBatch, type TokenRows } from './stored-batch.js';

/**
 * A variant's multihead logits already measured on the first batches, per task, batch by batch from
 * batch 0: the INT8 search ran the graph multihead_int8.onnx is cut from on the calibration split, and
 * its error probe ran multihead.onnx's FP32 nodes, unchanged, on the same split.
 */
export interface MeasuredLogits {
  /** What ran them, for the report's `measuredOn`. */
  graph: string;
  logits: Record<string, LogitsBatch[]>;
}

/** What the runs of one comparison share: the texts, where results go, and the multihead graphs' logits. */
export interface ParityRun {
  batches: readonly StoredBatch[];
  results: ParityResults;
  multihead?: MultiheadGraphs;
  measured?: Record<string, MeasuredLogits>;
  /** The equivalence inputs when task graphs may share their multihead graph's results, else []. */
  checkInputs: TokenRows[];
  /** variant -> the multihead graph's logits per task, batch by batch and on checkInputs (kept only to share). */
  shared: Map<string, { file: string; tasks: Record<string, LogitsBatch[]>; checks: Record<string, LogitsBatch[]> }>;
  onProgress?: (message: string) => void;
}

type Outputs = Array<[task: string, output: string]>;

const textCount = (batches: readonly { texts: readonly string[] }[], indices: number[]) =>
  indices.reduce((sum, index) => sum + batches[index]!.texts.length, 0);

/**
 * Runs the check batches (no measured logits are used before they all match bit for bit): the logits
 * that ran, how many measured batches may stand in, and which were checked.
 */
async function checkMeasured(run: ParityRun, variant: string, session: ClassifierSession, outputs: Outputs) {
  const known = run.measured?.[variant];
  const knownCount = known
    ? Math.min(run.batches.length, ...outputs.map(([task]) => known.logits[task]?.length ?? 0))
    : 0;
  const checked = measuredCheckBatches(knownCount);
  const ran = new Map<number, Record<string, LogitsBatch>>();
  let same = known !== undefined;
  for (const index of checked) {
    const actual = await session.runAll(
      tokenizedBatch(run.batches[index]!),
      outputs.map(([, output]) => output),
    );
    ran.set(index, actual);
    same &&= outputs.every(([task, output]) => maxDifference(actual[output]!, known!.logits[task]![index]!) === 0);
  }
  if (known && !same) run.onProgress?.(`multihead: ${variant} differs from ${known.graph}; running it on every batch`);
  return { known, ran, checked, standIns: same ? knownCount : 0 };
}

/** Runs a variant's multihead graph on every batch (measured logits standing in where they were shown identical). */
export async function runMultihead(run: ParityRun, variant: string, file: string, session: ClassifierSession) {
  const { batches, results } = run;
  run.onProgress?.(`multihead: ${variant} on ${batches.length} batches`);
  const outputs: Outputs = Object.entries(run.multihead!.outputs);
  const { known, ran, checked, standIns } = await checkMeasured(run, variant, session, outputs);
  const standIn = (index: number) => index < standIns && !ran.has(index);
  const kept: Record<string, LogitsBatch[]> = Object.fromEntries(outputs.map(([task]) => [task, []]));
  const kind = multiheadComparison(variant as Variant);
  const progress = new ProgressLine(batches.length, 'batches');
  for (const [index, batch] of batches.entries()) {
    if (index % 8 === 0) run.onProgress?.(`multihead: ${variant} ${progress.line(index)}`);
    const actual = standIn(index)
      ? Object.fromEntries(outputs.map(([task, output]) => [output, known!.logits[task]![index]!]))
      : (ran.get(index) ??
        (await session.runAll(
          tokenizedBatch(batch),
          outputs.map(([, output]) => output),
        )));
    for (const [task, output] of outputs) {
      results.add(kind, batch, task, actual[output]!);
      if (run.checkInputs.length > 0) kept[task]!.push(actual[output]!);
    }
  }
  const standInIndices = batches.map((_, index) => index).filter(standIn);
  if (standInIndices.length > 0) {
    const on = {
      graph: known!.graph,
      checkedSamples: textCount(batches, checked),
      maxAbsDiff: 0,
      standInSamples: textCount(batches, standInIndices),
    };
    const keys = new Set(batches.slice(0, standIns).map((batch) => comparisonFor(kind, batch.split)));
    for (const [task] of outputs) for (const key of keys) results.markMeasured(task, key, on);
  }
  if (run.checkInputs.length > 0) {
    const checks: Record<string, LogitsBatch[]> = Object.fromEntries(outputs.map(([task]) => [task, []]));
    for (const input of run.checkInputs) {
      const actual = await session.runAll(
        tokenizedBatch(input),
        outputs.map(([, output]) => output),
      );
      for (const [task, output] of outputs) checks[task]!.push(actual[output]!);
    }
    run.shared.set(variant, { file, tasks: kept, checks });
  }
}

/** Runs one task's graph: on the equivalence inputs when its multihead graph's results can be shared, else on every batch. */
export async function runTaskGraph(run: ParityRun, task: string, kind: string, session: ClassifierSession) {
  const { batches, results, checkInputs } = run;
  const shared = run.shared.get(kind);
  const sharedTask = shared?.tasks[task];
  if (shared && sharedTask) {
    run.onProgress?.(`${task}: ${kind} on ${checkInputs.length} batches, against the multihead graph`);
    let difference = 0;
    for (const [index, input] of checkInputs.entries()) {
      const logits = await session.run(tokenizedBatch(input));
      difference = Math.max(difference, maxDifference(logits, shared.checks[task]![index]!));
    }
    if (difference === 0) {
      batches.forEach((batch, index) => results.add(kind, batch, task, sharedTask[index]!));
      results.markMeasured(task, kind, {
        graph: basename(shared.file),
        checkedSamples: checkInputs.reduce((sum, input) => sum + input.inputIds.length, 0),
        maxAbsDiff: 0,
      });
      return;
    }
    run.onProgress?.(
      `${task}: ${kind} differs from the multihead graph (max ${difference}); running it on every batch`,
    );
  } else {
    run.onProgress?.(`${task}: ${kind} on ${batches.length} batches`);
  }
  const progress = new ProgressLine(batches.length, 'batches');
  for (const [index, batch] of batches.entries()) {
    if (index % 8 === 0) run.onProgress?.(`${task}: ${kind} ${progress.line(index)}`);
    results.add(kind, batch, task, await session.run(tokenizedBatch(batch)));
  }
}
