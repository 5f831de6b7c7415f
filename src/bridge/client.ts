import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { EnvironmentError } from '../errors.js';
import { BRIDGE_SOURCE } from '../paths.js';
import {
  bridgeExitedError,
  bridgeGoneError,
  bridgeTimeoutError,
  toToolError,
  type BridgeErrorPayload,
  type RequestActivity,
} from './failure.js';

export type BridgeVersions = Record<string, string | null>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (message: string) => void;
  activity: RequestActivity;
  /** Absolute deadline (RequestOptions.timeoutMs), if any. */
  timer?: NodeJS.Timeout;
  /** Re-armed by every line the bridge sends for this request (answer, progress, heartbeat). */
  silence?: NodeJS.Timeout;
  silenceMs: number;
}

export interface RequestOptions {
  /** Absolute limit for this request; none by default (the inactivity timeout guards it). */
  timeoutMs?: number;
  /** Overrides the client's inactivity timeout for this request (0: none). */
  inactivityTimeoutMs?: number;
  onProgress?: (message: string) => void;
}

/**
 * Default inactivity timeout: a request whose bridge sends nothing (no answer, progress or heartbeat)
 * for this long is declared hung and the bridge is killed (exit 4). The bridge sends a heartbeat every
 * 2 s (heartbeatSeconds) while a request runs, from a thread of its own, so only a stopped or wedged process (or one
 * starved of CPU for minutes) trips it; generous because torch's C++ export passes can hold Python's
 * GIL, and so delay heartbeats, for a long time on very large models.
 */
export const DEFAULT_BRIDGE_TIMEOUT_SECONDS = 600;

/** The bridge's heartbeat interval: 2 s, or a quarter of a shorter inactivity timeout. */
export function heartbeatSeconds(inactivityTimeoutMs: number): number {
  return inactivityTimeoutMs > 0 ? Math.min(2, inactivityTimeoutMs / 4000) : 2;
}

export interface StartOptions {
  python: string;
  startupTimeoutMs?: number;
  /** Inactivity timeout of every request, in ms (0: none); default DEFAULT_BRIDGE_TIMEOUT_SECONDS. */
  inactivityTimeoutMs?: number;
  /** Forward the bridge's stderr (library logs) to ours. */
  verbose?: boolean;
  /** Kills the process, also during start-up (start then rejects). */
  signal?: AbortSignal;
}

const STDERR_LINES_KEPT = 60;

/** One long-lived Python process speaking JSON lines over stdio. */
export class BridgeClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;
  /** Why the process ended, for requests sent after it did. */
  private exitError?: EnvironmentError;

  private constructor(
    private readonly child: ResultPromise,
    readonly versions: BridgeVersions,
    /** Shared with the stderr reader, which keeps appending to it. */
    private readonly stderrTail: string[],
    private readonly inactivityTimeoutMs: number,
  ) {}

  static async start(options: StartOptions): Promise<BridgeClient> {
    const inactivityTimeoutMs = options.inactivityTimeoutMs ?? DEFAULT_BRIDGE_TIMEOUT_SECONDS * 1000;
    const child = execa(options.python, ['-m', 'rapidfit_bridge'], {
      env: {
        RAPIDFIT_BRIDGE_HEARTBEAT_SECONDS: String(heartbeatSeconds(inactivityTimeoutMs)),
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
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    // a write to a bridge that has just died fails with EPIPE; the exit handler reports it instead
    child.stdin.on('error', () => undefined);
    const stderrTail: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_LINES_KEPT) stderrTail.shift();
      if (options.verbose) process.stderr.write(`[bridge] ${line}\n`);
    });
    const lines = createInterface({ input: child.stdout });

    const ready = await new Promise<BridgeVersions>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new EnvironmentError(
            `the Python bridge did not start within ${(options.startupTimeoutMs ?? 180_000) / 1000} s`,
          ),
        );
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

    const client = new BridgeClient(child, ready, stderrTail, inactivityTimeoutMs);
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
    if (message.event === 'heartbeat') {
      this.armSilenceTimer(id, pending);
      return;
    }
    if (message.event === 'progress') {
      this.armSilenceTimer(id, pending);
      pending.activity.lastProgress = String(message.message).slice(0, 160);
      pending.onProgress?.(String(message.message));
      return;
    }
    this.settle(id, pending);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(toToolError(message.error as BridgeErrorPayload));
  }

  private onExit(code: number | undefined, signal: string | undefined): void {
    this.exited = true;
    if (this.pending.size === 0) {
      this.exitError ??= bridgeExitedError({ code, signal }, undefined, this.stderrTail);
      return;
    }
    for (const [id, pending] of this.pending) {
      this.settle(id, pending);
      const error = bridgeExitedError({ code, signal }, pending.activity, this.stderrTail);
      this.exitError ??= error;
      pending.reject(error);
    }
  }

  private settle(id: number, pending: Pending): void {
    this.pending.delete(id);
    clearTimeout(pending.timer);
    clearTimeout(pending.silence);
  }

  /** (Re)starts the inactivity timer of a request; on expiry the bridge is killed and the request fails. */
  private armSilenceTimer(id: number, pending: Pending): void {
    clearTimeout(pending.silence);
    const limitMs = pending.silenceMs;
    if (!(limitMs > 0)) return;
    pending.silence = setTimeout(() => {
      this.settle(id, pending);
      const error = bridgeTimeoutError(Math.round(limitMs / 100) / 10, pending.activity, this.stderrTail);
      this.exitError = error;
      this.exited = true;
      this.child.kill('SIGKILL');
      pending.reject(error);
    }, limitMs);
    // a silence timer alone must not keep a finished program alive
    pending.silence.unref?.();
  }

  /** The last lines the bridge wrote to stderr, for error reports. */
  stderr(): string[] {
    return [...this.stderrTail];
  }

  request<T>(method: string, params: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
    if (this.exited) return Promise.reject(bridgeGoneError(method, this.exitError));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        resolve: resolve as (value: unknown) => void,
        reject,
        activity: { method, id, startedAt: Date.now() },
        silenceMs: options.inactivityTimeoutMs ?? this.inactivityTimeoutMs,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      };
      const timeoutMs = options.timeoutMs;
      if (timeoutMs !== undefined) {
        pending.timer = setTimeout(() => {
          this.settle(id, pending);
          reject(
            new EnvironmentError(`the Python bridge did not answer "${method}" within ${timeoutMs / 1000} s`, {
              code: 'BRIDGE_TIMEOUT',
            }),
          );
          this.exited = true;
          this.child.kill('SIGKILL');
        }, timeoutMs);
      }
      this.pending.set(id, pending);
      this.armSilenceTimer(id, pending);
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
