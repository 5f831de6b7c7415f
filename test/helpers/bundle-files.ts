import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Rewrites the manifest entry of a changed `file` (size, sha256), so that only the check under test, not the checksums, can catch the change. */
export function rechecksum(bundle: string, file: string): void {
  const manifestPath = join(bundle, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    files: Array<{ path: string; size: number; sha256: string }>;
  };
  const bytes = readFileSync(join(bundle, file));
  const entry = manifest.files.find((f) => f.path === file);
  if (!entry) throw new Error(`${file} is not in the manifest`);
  entry.size = bytes.length;
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}
