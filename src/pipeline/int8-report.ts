import type { Int8Mode } from '../quantize/policy.js';
import type { Int8Report } from '../config/report.js';
import type { Int8StepResult } from './int8-step.js';

/** The report's INT8 section: the method, the nodes kept at higher precision and, for auto, the search on the calibration split. */
export function int8Report(mode: Int8Mode, step: Int8StepResult, seed: number, judgedSamples: number): Int8Report {
  const choice = step.choice;
  return {
    mode,
    method: step.options.matmul,
    higherPrecision: step.options.nodeMethods,
    ...(choice
      ? {
          calibration: {
            samples: choice.calibrationSamples,
            seed,
            target: choice.targets,
            against: choice.against,
            agreement: choice.chosen.agreement,
            ...(choice.chosen.speedup !== undefined ? { speedupBatch1: choice.chosen.speedup } : {}),
            trials: choice.trials.map(({ nodeMethods: _, ...trial }) => trial),
            candidates: choice.candidates.map((c) => ({
              base: c.base,
              fallbackNodes: Object.keys(c.nodeMethods).length,
              ...(c.speedup !== undefined ? { speedupBatch1: c.speedup } : {}),
              passed: c.passed,
            })),
          },
        }
      : {}),
    judgedSamples,
    ...(choice?.note ? { note: choice.note } : {}),
  };
}
