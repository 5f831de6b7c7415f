import { EMBEDDED_SAMPLES } from './sample-texts.js';

/** mulberry32: small, fast, seedable; the same seed gives the same order on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let index = out.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [out[index], out[other]] = [out[other]!, out[index]!];
  }
  return out;
}

/** Batch sizes cycle so that padding differs from batch to batch (and batch 1 has none). */
const BATCH_SIZES = [1, 4, 16, 7, 32, 3];

export interface SampleBatch {
  firstIndex: number;
  texts: string[];
}

export function batchSamples(texts: readonly string[]): SampleBatch[] {
  const batches: SampleBatch[] = [];
  let index = 0;
  let size = 0;
  while (index < texts.length) {
    const take = BATCH_SIZES[size % BATCH_SIZES.length]!;
    batches.push({ firstIndex: index, texts: texts.slice(index, index + take) });
    index += take;
    size += 1;
  }
  return batches;
}

export interface SampleSet {
  source: string;
  seed: number;
  texts: string[];
}

export function embeddedSamples(seed: number, limit?: number): SampleSet {
  const texts = shuffled(EMBEDDED_SAMPLES, seed);
  return { source: 'embedded', seed, texts: limit ? texts.slice(0, limit) : texts };
}
