import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../errors.js';
import { LOCK_FILE } from '../paths.js';
import type { PythonInterpreter } from './python.js';
import { pidAlive } from '../pid.js';

const READY_MARKER = '.rapidfit-export-ready.json';

export interface BridgeEnvironment {
  venvDir: string;
  python: string;
  lockHash: string;
  /** True when this call installed the venv. */
  created: boolean;
  installSeconds?: number;
}

export function cacheRoot(): string {
  return process.env.RAPIDFIT_EXPORT_CACHE ?? join(homedir(), '.cache', 'rapidfit-export');
}

export function lockHash(lockFile = LOCK_FILE): string {
  return createHash('sha256').update(readFileSync(lockFile)).digest('hex');
}

export function venvDirFor(interpreter: PythonInterpreter, hash: string): string {
  const [major, minor] = interpreter.version;
  return join(cacheRoot(), `venv-${hash.slice(0, 16)}-py${major}${minor}`);
}

export function venvPython(venvDir: string): string {
  return process.platform === 'win32' ? join(venvDir, 'Scripts', 'python.exe') : join(venvDir, 'bin', 'python');
}

export type VenvState = 'ready' | 'missing' | 'incomplete';

/** A venv is ready only when its marker names this lock and its interpreter still exists. */
export function venvState(venvDir: string, hash: string): VenvState {
  if (!existsSync(venvDir)) return 'missing';
  try {
    const marker = JSON.parse(readFileSync(join(venvDir, READY_MARKER), 'utf8')) as { lockHash?: string };
    if (marker.lockHash === hash && existsSync(venvPython(venvDir))) return 'ready';
  } catch {
    // no marker or unreadable marker: the install never finished
  }
  return 'incomplete';
}

/** Called when the venv imports fail at run time: the next run rebuilds it. */
export async function markVenvBroken(venvDir: string): Promise<void> {
  await rm(join(venvDir, READY_MARKER), { force: true });
}

/** A lock file beside the venv so that two runs never install into the same directory. */
async function withInstallLock<T>(
  venvDir: string,
  onProgress: (line: string) => void,
  body: () => Promise<T>,
): Promise<T> {
  const lockPath = `${venvDir}.lock`;
  const deadline = Date.now() + 60 * 60 * 1000;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(owner) || owner <= 0 || !pidAlive(owner)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new EnvironmentError(`another process (pid ${owner}) has been installing the bridge for an hour`, {
          file: lockPath,
          hint: 'remove the lock file if that process is gone',
        });
      }
      onProgress(`waiting for pid ${owner} to finish installing the bridge environment`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await body();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Shortens pip's output to lines worth showing as progress. */
export function pipProgressLine(line: string): string | null {
  const trimmed = line.trim();
  if (/^(Collecting|Downloading|Installing collected packages|Successfully installed|Using cached)/.test(trimmed)) {
    return trimmed.length > 160 ? `${trimmed.slice(0, 157)}...` : trimmed;
  }
  return null;
}

/** The pinned venv for this interpreter and lock when it is ready to use (nothing is installed or changed). */
export function installedEnvironment(
  interpreter: PythonInterpreter,
  lockFile = LOCK_FILE,
): BridgeEnvironment | undefined {
  const hash = lockHash(lockFile);
  const venvDir = venvDirFor(interpreter, hash);
  return venvState(venvDir, hash) === 'ready'
    ? { venvDir, python: venvPython(venvDir), lockHash: hash, created: false }
    : undefined;
}

/**
 * Ensures the pinned bridge venv exists: created on first use with `pip install --require-hashes`
 * from python-bridge/requirements.lock, in a cache dir keyed by the lock's sha256 and the Python
 * version, and reused after. A half-made venv (no ready marker) is deleted and rebuilt.
 */
export async function ensureBridgeEnvironment(
  interpreter: PythonInterpreter,
  onProgress: (line: string) => void = () => {},
  lockFile = LOCK_FILE,
): Promise<BridgeEnvironment> {
  const installed = installedEnvironment(interpreter, lockFile);
  if (installed) return installed;
  const hash = lockHash(lockFile);
  const venvDir = venvDirFor(interpreter, hash);
  await mkdir(cacheRoot(), { recursive: true });
  return withInstallLock(venvDir, onProgress, async () => {
    const finished = installedEnvironment(interpreter, lockFile);
    if (finished) return finished;
    const started = performance.now();
    await rm(venvDir, { recursive: true, force: true });
    onProgress(`creating ${venvDir}`);
    try {
      await execa(interpreter.executable, ['-m', 'venv', venvDir], { timeout: 10 * 60_000 });
    } catch (error) {
      await rm(venvDir, { recursive: true, force: true });
      throw new EnvironmentError(`cannot create a virtual environment: ${firstLine(error)}`, {
        file: interpreter.executable,
        hint: 'on Debian/Ubuntu install python3-venv, or pass --python with another interpreter',
      });
    }
    const python = venvPython(venvDir);
    const result = await pipInstallLock(python, lockFile, onProgress);
    if (!result.ok) {
      await rm(venvDir, { recursive: true, force: true });
      throw new EnvironmentError(`pip could not install the pinned bridge environment:\n    ${result.tail}`, {
        file: lockFile,
        hint: 'check network access to PyPI and free disk space (about 7 GB), then run again',
      });
    }
    const installSeconds = (performance.now() - started) / 1000;
    await writeFile(
      join(venvDir, READY_MARKER),
      JSON.stringify(
        { lockHash: hash, python: interpreter.executable, createdAt: new Date().toISOString(), installSeconds },
        null,
        2,
      ),
    );
    return { venvDir, python, lockHash: hash, created: true, installSeconds };
  });
}

/** `pip install --require-hashes -r <lock>` into a venv: installs what is missing, skips what is satisfied. */
async function pipInstallLock(
  python: string,
  lockFile: string,
  onProgress: (line: string) => void,
): Promise<{ ok: boolean; tail: string }> {
  const pip = execa(
    python,
    [
      '-m',
      'pip',
      'install',
      '--require-hashes',
      '--no-input',
      '--disable-pip-version-check',
      '--progress-bar',
      'off',
      '-r',
      lockFile,
    ],
    {
      all: true,
      buffer: { all: true },
      timeout: 80 * 60_000,
      reject: false,
      env: { PIP_NO_WARN_SCRIPT_LOCATION: '1' },
    },
  );
  pip.all?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      const shown = pipProgressLine(line);
      if (shown) onProgress(shown);
    }
  });
  const result = await pip;
  const tail = (result.all ?? '')
    .split('\n')
    .filter((line) => line.trim())
    .slice(-6)
    .join('\n    ');
  return { ok: result.exitCode === 0, tail };
}

/**
 * A ready venv whose packages no longer import (a package removed or damaged by hand, a half-done
 * upgrade): reinstalls what is missing from the lock in place, which takes seconds where a rebuild
 * takes minutes. Returns false when pip fails; the caller then rebuilds the venv from scratch.
 */
export async function repairBridgeEnvironment(
  interpreter: PythonInterpreter,
  onProgress: (line: string) => void = () => {},
  lockFile = LOCK_FILE,
): Promise<boolean> {
  const hash = lockHash(lockFile);
  const venvDir = venvDirFor(interpreter, hash);
  if (venvState(venvDir, hash) !== 'ready') return false;
  return withInstallLock(venvDir, onProgress, async () => {
    onProgress(`repairing ${venvDir}: installing what is missing from the lock`);
    return (await pipInstallLock(venvPython(venvDir), lockFile, onProgress)).ok;
  });
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').find((line) => line.trim()) ?? text;
}
