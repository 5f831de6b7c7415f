import { z } from 'zod';
import { OUTPUT_OPTIONS } from './common.js';
import { list, number, text, toggle } from './table.js';

/** Texts per graph run of `predict` (and of the library's bundle.predict). */
export const DEFAULT_BATCH_SIZE = 32;

/** `rapidfit-export predict <bundle> [text ...]`. */
export const PREDICT_OPTIONS = {
  file: text(z.string().min(1).optional(), {
    arg: '<f>',
    help: 'texts to predict: .txt (one per line) or .jsonl (a "text" per line);\ntexts given as arguments come first',
  }),
  tasks: list(z.array(z.string().min(1)).min(1, '--tasks names no task').optional(), {
    arg: '<a,b>',
    help: 'tasks to predict (default: all)',
  }),
  variant: text(z.string().min(1).default('int8'), {
    arg: '<v>',
    help: 'int8 (default), fp32 or fp16; FP32 when the bundle has no graph of that variant',
  }),
  batchSize: number(
    z.number().int('must be a positive integer').min(1, 'must be a positive integer').default(DEFAULT_BATCH_SIZE),
    {
      arg: '<n>',
      help: (size) => `texts per graph run (default ${size})`,
    },
  ),
  maxLength: number(z.number().int('must be a positive integer').min(1, 'must be a positive integer').optional(), {
    arg: '<n>',
    help: "tokenizer max_length (default: each task config's max_length)",
  }),
  multihead: toggle(z.boolean().default(true), {
    help: 'one session per task, even when the bundle has multihead.onnx (used\nby default for several tasks: one encoder pass instead of one per task)',
  }),
  json: { ...OUTPUT_OPTIONS.json, help: 'JSON lines: {"text", "predictions": {task: {"label", "confidence"}}}' },
  progress: { ...OUTPUT_OPTIONS.progress, help: 'no progress lines on stderr (shown past 200 texts)' },
};
