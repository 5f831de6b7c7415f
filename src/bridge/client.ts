import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { EnvironmentError, ExitCode, InputError, ToolError } from '../errors.js';
import { BRIDGE_SOURCE } from '../paths.js';

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

export type BridgeVersions = Record<string, string | null>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (message: string) => void;
  timer: NodeJS.Timeout;
}

export interface RequestOptions {
  timeoutMs?: number;
  onProgress?: (message: string) => void;
}

export interface StartOptions {
  python: string;
  startupTimeoutMs?: number;
  /** Forward the bridge's stderr (library logs) to ours. */
  verbose?: boolean;
}

const STDERR_LINES_KEPT = 60;

/** One long-lived Python process speaking JSON lines over stdio. */
export class BridgeClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  private constructor(
    private readonly child: ResultPromise,
    readonly versions: BridgeVersions,
    /** Shared with the stderr reader, which keeps appending to it. */
    private readonly stderrTail: string[],
  ) {}

  static async start(options: StartOptions): Promise<BridgeClient> {
    const child = execa(options.python, ['-m', 'rapidfit_bridge'], {
      env: {
        PYTHONPATH: BRIDGE_SOURCE,
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        HF_DATASETS_OFFLINE: '1',
        TOKENIZERS_PARALLELISM: 'false',
        TRANSFORMERS_VERBOSITY: 'error',
        HF_HUB_DISABLE_PROGRESS_BARS: '1',
        PYTHONWARNINGS: 'ignore',
      },
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
    });
    const stderrTail: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_LINES_KEPT) stderrTail.shift();
      if (options.verbose) process.stderr.write(`[bridge] ${line}\n`);
    });
    const lines = createInterface({ input: child.stdout! });

    const ready = await new Promise<BridgeVersions>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new EnvironmentError(`the Python bridge did not start within ${(options.startupTimeoutMs ?? 180_000) / 1000} s`));
      }, options.startupTimeoutMs ?? 180_000);
      const onLine = (line: string) => {
        const message = parseLine(line);
        if (!message) return;
        clearTimeout(timer);
        lines.off('line', onLine);
        if (message.event === 'ready') resolve(message.versions as BridgeVersions);
        else if (message.event === 'fatal') {
          const error = toToolError(message.error as BridgeErrorPayload);
          error.details.code = (message.error as BridgeErrorPayload).code;
          reject(error);
        } else reject(new EnvironmentError(`the Python bridge sent an unexpected first line: ${line.slice(0, 200)}`));
      };
      lines.on('line', onLine);
      void child.then((result) => {
        clearTimeout(timer);
        reject(
          new EnvironmentError(
            `the Python bridge exited during start-up (exit code ${String(result.exitCode)}):\n    ${stderrTail.slice(-8).join('\n    ')}`,
            { file: options.python },
          ),
        );
      });
    });

    const client = new BridgeClient(child, ready, stderrTail);
    lines.on('line', (line) => client.onLine(line));
    void child.then((result) => client.onExit(result.exitCode, result.signal));
    return client;
  }

  private onLine(line: string): void {
    const message = parseLine(line);
    if (!message) return;
    const id = typeof message.id === 'number' ? message.id : -1;
    const pending = this.pending.get(id);
    if (!pending) return;
    if (message.event === 'progress') {
      pending.onProgress?.(String(message.message));
      return;
    }
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(toToolError(message.error as BridgeErrorPayload));
  }

  private onExit(code: number | undefined, signal: string | undefined): void {
    this.exited = true;
    const why = signal ? `signal ${signal}` : `exit code ${String(code)}`;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new EnvironmentError(`the Python bridge exited unexpectedly (${why}):\n    ${this.stderrTail.slice(-8).join('\n    ')}`),
      );
      this.pending.delete(id);
    }
  }

  /** The last lines the bridge wrote to stderr, for error reports. */
  stderr(): string[] {
    return [...this.stderrTail];
  }

  request<T>(method: string, params: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
    if (this.exited) return Promise.reject(new EnvironmentError('the Python bridge is not running'));
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? 30 * 60_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EnvironmentError(`the Python bridge did not answer "${method}" within ${timeoutMs / 1000} s`));
        this.exited = true;
        this.child.kill('SIGKILL');
      }, timeoutMs);
      this.pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      this.child.stdin!.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  /** Asks the bridge to exit, then makes sure it has. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.exited) {
      const done = this.child.then(() => undefined);
      try {
        this.child.stdin!.write(`${JSON.stringify({ id: this.nextId++, method: 'shutdown' })}\n`);
        this.child.stdin!.end();
      } catch {
        // the pipe may already be closed
      }
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    }
  }

  /** Immediate, synchronous kill for exit and signal handlers. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}

function parseLine(line: string): Record<string, unknown> | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    return JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    return null;
  }
}
