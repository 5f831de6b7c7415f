import { EnvironmentError, ExitCode, InputError, ToolError } from '../errors.js';

/** What a request was doing when the bridge died or went silent, for the error message. */
export interface RequestActivity {
  method: string;
  id: number;
  startedAt: number;
  lastProgress?: string;
}

/** Stable codes of bridge process failures (all exit 4). */
export const BRIDGE_EXITED = 'BRIDGE_EXITED';
export const BRIDGE_TIMEOUT = 'BRIDGE_TIMEOUT';

const STDERR_LINES_SHOWN = 8;

function describeActivity(activity: RequestActivity | undefined, now: number): string {
  if (!activity) return 'between requests';
  const seconds = ((now - activity.startedAt) / 1000).toFixed(1);
  const progress = activity.lastProgress ? `; last progress: "${activity.lastProgress}"` : '';
  return `while running "${activity.method}" (request ${activity.id}, ${seconds} s in${progress})`;
}

/** The bridge's last stderr lines, indented under the message; nothing when it wrote none. */
function stderrBlock(stderrTail: string[]): string {
  const lines = stderrTail.filter((line) => line.trim()).slice(-STDERR_LINES_SHOWN);
  return lines.length > 0 ? `; its last stderr lines:\n    ${lines.join('\n    ')}` : '';
}

/** The bridge process ended while `activity` (if any) was running. */
export function bridgeExitedError(
  exit: { code: number | undefined; signal: string | undefined },
  activity: RequestActivity | undefined,
  stderrTail: string[],
  now = Date.now(),
): EnvironmentError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  const hint =
    exit.signal === 'SIGKILL'
      ? 'something outside the tool killed it; the kernel does this when memory runs out (see `dmesg`): free memory or use a smaller model, then run again (--verbose shows its log)'
      : 'run again with --verbose to see its log; if it happens again, report it with that log';
  return new EnvironmentError(`the Python bridge ${how} ${describeActivity(activity, now)}${stderrBlock(stderrTail)}`, {
    code: BRIDGE_EXITED,
    hint,
  });
}

/** A request saw no answer, progress or heartbeat from the bridge for `seconds`: it was killed. */
export function bridgeTimeoutError(
  seconds: number,
  activity: RequestActivity,
  stderrTail: string[],
  now = Date.now(),
): EnvironmentError {
  return new EnvironmentError(
    `the Python bridge sent nothing for ${seconds} s ${describeActivity(activity, now)}: it is hung or stopped, and was killed${stderrBlock(stderrTail)}`,
    {
      code: BRIDGE_TIMEOUT,
      hint: 'the bridge sends a heartbeat every 2 s while it works; if the machine is very slow or swapping, raise --bridge-timeout (seconds, 0 = no limit)',
    },
  );
}

/** A request sent after the bridge had already ended. */
export function bridgeGoneError(method: string, exitError: EnvironmentError | undefined): EnvironmentError {
  const why = exitError ? `: ${exitError.message}` : '';
  return new EnvironmentError(`cannot run "${method}": the Python bridge is not running${why}`, {
    code: BRIDGE_EXITED,
    ...(exitError?.details.hint ? { hint: exitError.details.hint } : {}),
  });
}

/** Error codes the bridge sends for problems with the user's model (exit 2). */
const INPUT_CODES = new Set([
  'INPUT_MISSING',
  'BAD_TASK_HEADS',
  'UNSAFE_PICKLE',
  'BAD_CONFIG',
  'HEAD_MISMATCH',
  'UNKNOWN_TASK',
  'BAD_WEIGHTS',
  'BAD_TOKENIZER',
]);

export interface BridgeErrorPayload {
  code: string;
  message: string;
  file?: string;
  hint?: string;
  traceback?: string;
}

export function toToolError(payload: BridgeErrorPayload): ToolError {
  const details = {
    code: payload.code,
    ...(payload.file ? { file: payload.file } : {}),
    ...(payload.hint ? { hint: payload.hint } : {}),
  };
  if (INPUT_CODES.has(payload.code)) return new InputError(payload.message, details);
  if (payload.code === 'INTERNAL') {
    const error = new ToolError(ExitCode.internal, `the Python bridge failed: ${payload.message}`, details);
    if (payload.traceback) error.stack = payload.traceback;
    return error;
  }
  return new EnvironmentError(payload.message, details);
}
