import { bridgeDoctorCommand } from './bridge-doctor.js';
import type { Command, RawCommand } from './command.js';
import { exportCommand } from './export.js';
import { inspectCommand } from './inspect.js';
import { quantizeCommand } from './quantize.js';
import { verifyCommand } from './verify.js';

/** predict keeps its own parser (src/commands/predict.ts), loaded when it runs: onnxruntime-node and tokenizers. */
const predictCommand: RawCommand = {
  name: 'predict',
  usage: '<bundle> [text ...]',
  summary: 'predict labels and confidences in Node (no Python)',
  async load() {
    const { OPTIONS, commandPredict } = await import('./predict.js');
    return { options: OPTIONS, runArgv: commandPredict };
  },
};

/** Every command, in the order of the top-level help. */
export const COMMANDS: ReadonlyArray<Command | RawCommand> = [
  exportCommand,
  inspectCommand,
  quantizeCommand,
  verifyCommand,
  predictCommand,
  bridgeDoctorCommand,
];

/** What `rapidfit-export <model_dir>` runs. */
export const DEFAULT_COMMAND: Command = exportCommand;
