import { mergeSamples } from '../samples/merge.js';
import { readSamplesFile } from '../samples/read.js';
import type { ComparedBundle } from './bundle.js';

/** The texts both releases run on, and the gold label names (task -> label) where known. */
export interface ComparedTexts {
  texts: string[];
  /** Per text: task -> gold label name (empty: none). */
  gold: Array<Record<string, string>>;
  /** How many texts came from each source (a text in several counts in the first). */
  sources: { stored: number; samples: number };
}

export interface TextSourceOptions {
  /** --samples files, read as export reads them (any of its formats, labels checked by name). */
  samples?: readonly string[];
  textColumn?: string;
  labelColumns?: Readonly<Record<string, string>>;
}

class TextSet {
  readonly texts: string[] = [];
  readonly gold: Array<Record<string, string>> = [];
  private readonly index = new Map<string, number>();

  /** Adds a text (once) and its labels; a label already known for a task is kept. */
  add(text: string, labels: Readonly<Record<string, string>>): boolean {
    let position = this.index.get(text);
    const added = position === undefined;
    if (position === undefined) {
      position = this.texts.length;
      this.index.set(text, position);
      this.texts.push(text);
      this.gold.push({});
    }
    const gold = this.gold[position]!;
    for (const [task, label] of Object.entries(labels)) if (!Object.hasOwn(gold, task)) gold[task] = label;
    return added;
  }
}

/** The texts stored in a bundle's verification.json (embedded, calibration and judged), gold ids as names. */
function storedSamples(bundle: ComparedBundle): Array<{ text: string; labels: Record<string, string> }> {
  const labels = new Map(bundle.tasks.map((task) => [task.name, task.labels]));
  return (bundle.verification?.batches ?? []).flatMap((batch) =>
    batch.texts.map((text, row) => {
      const ids = batch.gold?.[row] ?? {};
      const named = Object.entries(ids).flatMap(([task, id]) => {
        const label = labels.get(task)?.[id];
        return label === undefined ? [] : [[task, label] as const];
      });
      return { text, labels: Object.fromEntries(named) };
    }),
  );
}

/** Every task's label names in either bundle: what a --samples label may be. */
function knownLabels(bundles: readonly ComparedBundle[]): Record<string, string[]> {
  const known = new Map<string, Set<string>>();
  for (const task of bundles.flatMap((bundle) => bundle.tasks)) {
    const labels = known.get(task.name) ?? new Set<string>();
    for (const label of task.labels) labels.add(label);
    known.set(task.name, labels);
  }
  return Object.fromEntries([...known].map(([task, labels]) => [task, [...labels]]));
}

/**
 * The texts of a comparison: the --samples files first (their labels win), then the texts stored in
 * the old bundle, then the new bundle's others; each text once.
 */
export async function comparedTexts(
  old: ComparedBundle,
  candidate: ComparedBundle,
  options: TextSourceOptions,
): Promise<ComparedTexts> {
  const set = new TextSet();
  let samples = 0;
  const files = options.samples ?? [];
  if (files.length > 0) {
    const readOptions = {
      labels: knownLabels([old, candidate]),
      ...(options.textColumn ? { textColumn: options.textColumn } : {}),
      ...(options.labelColumns ? { labelColumns: options.labelColumns } : {}),
    };
    const read = [];
    for (const file of files) read.push({ file, records: await readSamplesFile(file, readOptions) });
    for (const sample of mergeSamples(read)) if (set.add(sample.text, sample.labels)) samples += 1;
  }
  let stored = 0;
  for (const sample of [...storedSamples(old), ...storedSamples(candidate)]) {
    if (set.add(sample.text, sample.labels)) stored += 1;
  }
  return { texts: set.texts, gold: set.gold, sources: { stored, samples } };
}
