import type { Int8Report } from '../config/report.js';
import type { Int8Mode } from '../quantize/policy.js';
import type { Int8StepResult } from './int8-step.js';

function calibrationSection(step: Int8StepResult, seed: number): Int8Report['calibration'] {
  const choice = step.choice!;
  return {
    samples: choice.calibrationSamples,
    seed,
    target: choice.targets,
    targetFlips: choice.targetFlips,
    against: choice.against,
    agreement: choice.chosen.agreement,
    ...(choice.chosen.speedup !== undefined ? { speedupBatch1: choice.chosen.speedup } : {}),
    ...(choice.speed
      ? {
          speed: {
            p50Tokens: choice.speed.profile.p50,
            p95Tokens: choice.speed.profile.p95,
            batchSize: choice.speed.profile.batchSize,
            points: choice.speed.points,
          },
        }
      : {}),
    trials: choice.trials.map((trial) => ({
      base: trial.base,
      fallbackNodes: trial.fallbackNodes,
      agreement: trial.agreement,
      flips: trial.flips,
      passed: trial.passed,
      ...(trial.stoppedEarly ? { stoppedEarly: true } : {}),
    })),
    candidates: choice.candidates.map((c) => ({
      base: c.base,
      fallbackNodes: Object.keys(c.nodeMethods).length,
      ...(c.speedup !== undefined ? { speedupBatch1: c.speedup } : {}),
      passed: c.passed,
    })),
    outcome: choice.outcome,
  };
}

/** The report's INT8 section: the method, the nodes kept at higher precision and, for auto, the search on the calibration split. */
export function int8Report(mode: Int8Mode, step: Int8StepResult, seed: number, judgedSamples: number): Int8Report {
  return {
    mode,
    method: step.options.matmul,
    higherPrecision: step.options.nodeMethods,
    ...(step.choice ? { calibration: calibrationSection(step, seed) } : {}),
    judgedSamples,
    ...(step.note ? { note: step.note } : {}),
  };
}
