import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { findPython } from '../../src/bridge/python.js';
import { ensureBridgeEnvironment } from '../../src/bridge/venv.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const CLI = join(PACKAGE_ROOT, 'dist', 'cli.js');

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (node dist/cli.js ...), never throwing on a non-zero exit. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeout = 10 * 60_000): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it)');
  const result = await execa('node', [CLI, ...args], { reject: false, env: { ...env }, timeout, all: false });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function scratchDir(prefix = 'rfe-test-'): string {
  // below the run's temporary root (test/temp-root.ts), removed when the run ends
  return mkdtempSync(join(process.env.RFE_TEST_TMP ?? tmpdir(), prefix));
}

/** Names in `dir` left by a run (staging, .old or .unverified dirs). */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.includes('.staging-') || name.includes('.old-'));
}

export async function bridgePython(): Promise<string> {
  return (await ensureBridgeEnvironment(await findPython())).python;
}

/** True while `pid` runs; a zombie (killed, not yet reaped because PID 1 here does not reap) counts as stopped. */
export function isRunning(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
