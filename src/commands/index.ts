import { bridgeDoctorCommand } from './bridge-doctor.js';
import { bridgeKeyCommand } from './bridge-key.js';
import type { Command } from './command.js';
import { compareCommand } from './compare.js';
import { exportCommand } from './export.js';
import { inspectCommand } from './inspect.js';
import { predictCommand } from './predict.js';
import { quantizeCommand } from './quantize.js';
import { reportCommand } from './report.js';
import { verifyCommand } from './verify.js';

/** Every command, in the order of the top-level help. */
export const COMMANDS = [
  exportCommand,
  inspectCommand,
  quantizeCommand,
  verifyCommand,
  reportCommand,
  predictCommand,
  compareCommand,
  bridgeDoctorCommand,
  bridgeKeyCommand,
] as unknown as ReadonlyArray<Command>;

/** What `rapidfit-export <model_dir>` runs. */
export const DEFAULT_COMMAND = exportCommand as unknown as Command;
