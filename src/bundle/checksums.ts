import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ManifestFile } from '../config/manifest.js';

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** Every file under `root` (except those excluded) with its sha256 and size, paths with "/". */
export async function checksumTree(root: string, exclude: string[] = []): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const file of await listFiles(root)) {
    const path = relative(root, file).split(sep).join('/');
    if (exclude.includes(path)) continue;
    files.push({ path, sha256: await sha256File(file), size: (await stat(file)).size });
  }
  return files;
}
