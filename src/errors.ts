/** Exit codes, as documented in the README and DESIGN. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  badInput: 2,
  gateFailed: 3,
  environment: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  /** The file or directory the problem is about. */
  file?: string;
  /** What the user can do about it. */
  hint?: string;
  /** A stable machine-readable code (bridge error codes, e.g. UNSAFE_PICKLE). */
  code?: string;
}

/** An error meant for the user: printed as one message, never with a stack trace. */
export class ToolError extends Error {
  /** Extra machine-readable data for --json output (e.g. the partial result of a failed gate). */
  payload?: unknown;

  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InputError extends ToolError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(ExitCode.badInput, message, details);
  }
}

export class GateError extends ToolError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(ExitCode.gateFailed, message, details);
  }
}

export class EnvironmentError extends ToolError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(ExitCode.environment, message, details);
  }
}

/** One line (plus an optional hint line) for the terminal. */
export function formatToolError(error: ToolError): string {
  const where = error.details.file ? `${error.details.file}: ` : '';
  const hint = error.details.hint ? `\n  hint: ${error.details.hint}` : '';
  return `error: ${where}${error.message}${hint}`;
}
