import { z } from 'zod';
import { BRIDGE_OPTIONS, OUTPUT_OPTIONS } from './common.js';
import { text } from './table.js';

/** `rapidfit-export inspect <file.onnx>|<model_dir>`. */
export const INSPECT_OPTIONS = {
  taskName: text(z.string().min(1).optional(), {
    arg: '<name>',
    help: '<model_dir>: task name for a plain Hugging Face model (default: the directory name)',
  }),
  ...BRIDGE_OPTIONS,
  ...OUTPUT_OPTIONS,
};

/** `rapidfit-export bridge doctor`. */
export const BRIDGE_DOCTOR_OPTIONS = { ...BRIDGE_OPTIONS, ...OUTPUT_OPTIONS };
