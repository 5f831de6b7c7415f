import { describeMix, type Int8Choice } from '../quantize/auto/search.js';

/**
 * One line for the user about auto's choice, when it needs saying: no candidate reached the
 * calibration target (the gate's own allowance chose, or nothing did), or the choice is slower than
 * the speed goal at the texts' median length.
 */
export function int8Note(
  choice: Pick<Int8Choice, 'chosen' | 'matmulCount' | 'outcome' | 'trials' | 'budget' | 'speed'>,
  speedGoal: number,
): string | undefined {
  const mix = describeMix(choice.chosen.base, choice.chosen.nodeMethods, choice.matmulCount);
  if (choice.outcome === 'none') {
    return `INT8: no candidate reached the INT8 gate on the calibration split (${choice.trials.length} trial(s), budget ${choice.budget}); wrote the most precise one tried (${mix}), which the judged split decides`;
  }
  const notes = [
    ...(choice.outcome === 'gate'
      ? ['no candidate reached the calibration margin; chose one that reaches the gate on the calibration split']
      : []),
    ...(choice.speed && choice.speed.headline < speedGoal
      ? [
          `no candidate reaches both the agreement target and ${speedGoal}x FP32 speed; chose the fastest that passes (${choice.speed.headline.toFixed(2)}x at ${choice.speed.profile.p50} tokens, ${mix})`,
        ]
      : []),
  ];
  return notes.length > 0 ? `INT8: ${notes.join('; ')}` : undefined;
}
