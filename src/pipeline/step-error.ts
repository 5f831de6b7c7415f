import { BRIDGE_EXITED, BRIDGE_TIMEOUT } from '../bridge/failure.js';
import { ToolError } from '../errors.js';
import { asEnvironmentError } from '../fs-errors.js';

/**
 * An error thrown inside pipeline step `step`, made readable: a bridge that died or hung is told which
 * step it was in, and a file-system errno (disk full, read-only, ...) becomes exit 4 naming the path
 * (`outDir` when the error carries none: writes through a file descriptor have no path).
 */
export function stepError(error: unknown, step: string, outDir: string): unknown {
  if (error instanceof ToolError) {
    if (error.details.code === BRIDGE_EXITED || error.details.code === BRIDGE_TIMEOUT) {
      if (!error.message.startsWith('step ')) error.message = `step "${step}": ${error.message}`;
    }
    return error;
  }
  return asEnvironmentError(error, outDir, `in step "${step}"`, `; ${outDir} was left as it was`);
}
