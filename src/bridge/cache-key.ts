import { basename } from 'node:path';
import { LOCK_FILE } from '../paths.js';
import type { PythonInterpreter } from './python.js';
import { cacheRoot, lockHash, venvDirFor } from './venv.js';

/** What a CI cache of the bridge venv is keyed on, and where the venv lives. */
export interface BridgeCacheKey {
  /** e.g. rapidfit-export-bridge-linux-x64-py3.11.9-venv-a7b7241291cb0419-py311 */
  key: string;
  /** The directory to cache ($RAPIDFIT_EXPORT_CACHE, else ~/.cache/rapidfit-export). */
  cacheDir: string;
  venvDir: string;
  lockFile: string;
  lockSha256: string;
  python: string;
}

/**
 * The cache key of the bridge venv: the venv directory's own name (lock sha256 and Python major.minor,
 * as ensureBridgeEnvironment names it, so the key cannot drift from it) plus what else a venv depends
 * on: the OS, the CPU and the interpreter's patch version (its absolute path is inside the venv).
 */
export function bridgeCacheKey(interpreter: PythonInterpreter, lockFile = LOCK_FILE): BridgeCacheKey {
  const lockSha256 = lockHash(lockFile);
  const venvDir = venvDirFor(interpreter, lockSha256);
  const version = interpreter.version.join('.');
  return {
    key: `rapidfit-export-bridge-${process.platform}-${process.arch}-py${version}-${basename(venvDir)}`,
    cacheDir: cacheRoot(),
    venvDir,
    lockFile,
    lockSha256,
    python: interpreter.executable,
  };
}
