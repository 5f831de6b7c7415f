import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { MANIFEST_FILE as MANIFEST } from '../plan/files.js';
const live = new Set<string>();

/** Removes staging dirs of this process synchronously (for exit and signal handlers). */
export function removeStagingDirsSync(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

async function isBundle(dir: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as { schema?: string };
    return manifest.schema === 'rapidfit-export/manifest';
  } catch {
    return false;
  }
}

/**
 * Checks that `outDir` can be written: not inside the input, not a file, and (unless `force`)
 * either absent, empty, or a bundle that this tool wrote before.
 */
export async function checkOutputDir(outDir: string, inputDir: string, force: boolean): Promise<void> {
  const out = resolve(outDir);
  const input = resolve(inputDir);
  if (out === input || out.startsWith(input + sep)) {
    throw new InputError('the output directory is inside the input model directory', {
      file: out,
      hint: 'choose an output outside the model, e.g. -o ./bundle',
    });
  }
  if (input.startsWith(out + sep)) {
    throw new InputError(
      'the output directory contains the input model directory; replacing it would delete the model',
      {
        file: out,
      },
    );
  }
  if (!existsSync(out)) {
    if (!existsSync(dirname(out))) {
      throw new InputError('the parent of the output directory does not exist', { file: dirname(out) });
    }
    return;
  }
  const info = await stat(out);
  if (!info.isDirectory()) throw new InputError('the output path exists and is not a directory', { file: out });
  if (force) return;
  if ((await readdir(out)).length > 0 && !(await isBundle(out))) {
    throw new InputError('the output directory is not empty and is not a rapidfit-export bundle', {
      file: out,
      hint: 'choose another -o, or pass --force to replace it',
    });
  }
}

/** A fresh staging directory beside `outDir` (same file system, so the final rename is atomic). */
export async function createStagingDir(outDir: string): Promise<string> {
  const out = resolve(outDir);
  const staging = join(dirname(out), `.${basename(out)}.staging-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: false });
  live.add(staging);
  return staging;
}

export async function discardStagingDir(staging: string): Promise<void> {
  await rm(staging, { recursive: true, force: true });
  live.delete(staging);
}

/**
 * Moves a complete staging dir into place. The old bundle, if any, is moved aside first and deleted
 * only after the new one is in place, so at every moment `outDir` is either the old bundle or the new one
 * (or, between the two renames, absent).
 */
export async function publishStagingDir(staging: string, outDir: string): Promise<void> {
  const out = resolve(outDir);
  let aside: string | undefined;
  if (existsSync(out)) {
    aside = join(dirname(out), `.${basename(out)}.old-${randomBytes(4).toString('hex')}`);
    await rename(out, aside);
  }
  try {
    await rename(staging, out);
  } catch (error) {
    if (aside) await rename(aside, out);
    throw error;
  }
  live.delete(staging);
  if (aside) await rm(aside, { recursive: true, force: true });
}
