import { readFileSync, rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { onAbort } from '../cleanup.js';
import { EnvironmentError } from '../errors.js';
import { asEnvironmentError } from '../fs-errors.js';
import { pidAlive } from '../pid.js';

/** `.<out>.lock` beside the output directory (hidden, like the staging dirs). */
export function outputLockPath(outDir: string): string {
  const out = resolve(outDir);
  return join(dirname(out), `.${basename(out)}.lock`);
}

/** Locks this process holds: a lock naming our pid that is not here was left by an earlier process (pid reuse). */
const held = new Set<string>();

/**
 * Claims `outDir` for this run, so that two runs writing the same output never interleave their
 * renames: the second fails at once (exit 4, naming the lock and the pid holding it) and the first
 * goes on. A lock whose pid is gone (a run killed with SIGKILL) is taken over. Returns the release.
 */
export async function acquireOutputLock(outDir: string): Promise<() => Promise<void>> {
  const lockPath = outputLockPath(outDir);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      held.add(lockPath);
      const removeOnAbort = onAbort(() => releaseIfOurs(lockPath));
      return async () => {
        removeOnAbort();
        held.delete(lockPath);
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw asEnvironmentError(error, lockPath, 'while creating the output lock');
      const text = (await readFile(lockPath, 'utf8').catch(() => '')).trim();
      if (text === '' && attempt < 2) {
        // its owner has created it and not yet written its pid: look again
        await new Promise((done) => setTimeout(done, 200));
        continue;
      }
      const owner = Number(text);
      const busy = owner === process.pid ? held.has(lockPath) : Number.isInteger(owner) && owner > 0 && pidAlive(owner);
      if (busy) {
        throw new EnvironmentError(`another rapidfit-export run (pid ${owner}) is writing this output directory`, {
          file: resolve(outDir),
          code: 'OUTPUT_LOCKED',
          hint: `wait for it to finish, or use another -o; if pid ${owner} is not rapidfit-export, remove ${lockPath}`,
        });
      }
      // stale (its run was killed) or half-written: take it over
      await rm(lockPath, { force: true });
    }
  }
  throw new EnvironmentError('cannot create the output lock file', { file: lockPath, code: 'OUTPUT_LOCKED' });
}

/** For signal handlers: removes the lock only if this process holds it. */
function releaseIfOurs(lockPath: string): void {
  try {
    if (held.has(lockPath) && readFileSync(lockPath, 'utf8').trim() === String(process.pid))
      rmSync(lockPath, { force: true });
    held.delete(lockPath);
  } catch {
    // already gone
  }
}
