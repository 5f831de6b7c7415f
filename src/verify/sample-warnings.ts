import type { SampleSet } from './samples.js';

/**
 * The fewest judged texts a top-1 gate can stand on: 3 / (1 - gate). With no flip among n texts,
 * the 95% upper bound on the flip rate is about 3 / n (the "rule of three"), so below this count even
 * a perfect run cannot show that the flip rate is within the gate's allowance. 300 for 0.99.
 */
export function minJudgedTexts(gate: number): number {
  return gate >= 1 ? Infinity : Math.ceil(3 / (1 - gate) - 1e-9);
}

/** What a release engineer should know about the texts behind the INT8 choice and gate (empty when nothing). */
export function sampleWarnings(input: {
  samples: Pick<SampleSet, 'splits' | 'origin'>;
  /** The INT8 top-1 gates' limits across tasks; none when no INT8 graph was made. */
  int8Gates: readonly number[];
  tuned: boolean;
}): string[] {
  const { samples, int8Gates, tuned } = input;
  if (int8Gates.length === 0) return [];
  const warnings: string[] = [];
  if (!samples.origin.user) {
    warnings.push(
      `the INT8 ${tuned ? 'choice and its gate rest' : 'gate rests'} on ${samples.origin.embedded} generic embedded texts, not on your data: pass --samples <your validation data> (a confident model may then get a faster INT8 graph)`,
    );
  }
  const gate = Math.max(...int8Gates);
  const needed = minJudgedTexts(gate);
  if (samples.splits.judged < needed) {
    warnings.push(
      `the INT8 gate (top-1 >= ${gate}) is judged on ${samples.splits.judged} texts, fewer than the ${needed} it needs to mean much (3 / (1 - gate): with no flip among them, the 95% bound on the flip rate is then within the gate)${samples.origin.user ? '' : '; pass more texts with --samples'}`,
    );
  }
  return warnings;
}
