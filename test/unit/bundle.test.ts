import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputDir, createStagingDir, discardStagingDir, publishStagingDir } from '../../src/bundle/atomic.js';
import { checksumTree, sha256File } from '../../src/bundle/checksums.js';
import { scratchDir } from '../helpers/cli.js';

function scratch(): string {
  return scratchDir('rfe-bundle-');
}

describe('output directory checks', () => {
  it('refuses an output inside the input, a file, a missing parent and a foreign non-empty dir', async () => {
    const root = scratch();
    const model = join(root, 'model');
    mkdirSync(model);
    await expect(checkOutputDir(join(model, 'out'), model, false)).rejects.toThrow(/inside the input/);
    await expect(checkOutputDir(root, model, false)).rejects.toThrow(/contains the input/);
    writeFileSync(join(root, 'file'), 'x');
    await expect(checkOutputDir(join(root, 'file'), model, false)).rejects.toThrow(/not a directory/);
    await expect(checkOutputDir(join(root, 'no', 'such'), model, false)).rejects.toThrow(/parent of the output/);
    mkdirSync(join(root, 'photos'));
    writeFileSync(join(root, 'photos', 'cat.jpg'), 'x');
    await expect(checkOutputDir(join(root, 'photos'), model, false)).rejects.toThrow(/not a rapidfit-export bundle/);
    await expect(checkOutputDir(join(root, 'photos'), model, true)).resolves.toBeUndefined();
    await expect(checkOutputDir(join(root, 'fresh'), model, false)).resolves.toBeUndefined();
  });

  it('accepts a previous bundle as the output', async () => {
    const root = scratch();
    mkdirSync(join(root, 'model'));
    mkdirSync(join(root, 'bundle'));
    writeFileSync(join(root, 'bundle', 'manifest.json'), JSON.stringify({ schema: 'rapidfit-export/manifest' }));
    await expect(checkOutputDir(join(root, 'bundle'), join(root, 'model'), false)).resolves.toBeUndefined();
  });
});

describe('atomic publish', () => {
  it('replaces an old bundle with a staged one and leaves no temp dirs', async () => {
    const root = scratch();
    const out = join(root, 'bundle');
    mkdirSync(out);
    writeFileSync(join(out, 'old.txt'), 'old');
    const staging = await createStagingDir(out);
    writeFileSync(join(staging, 'new.txt'), 'new');
    await publishStagingDir(staging, out);
    expect(readdirSync(out)).toEqual(['new.txt']);
    expect(readdirSync(root)).toEqual(['bundle']);
  });

  it('discarding a staging dir leaves the old bundle untouched', async () => {
    const root = scratch();
    const out = join(root, 'bundle');
    mkdirSync(out);
    writeFileSync(join(out, 'old.txt'), 'old');
    const staging = await createStagingDir(out);
    writeFileSync(join(staging, 'half.onnx'), 'partial');
    await discardStagingDir(staging);
    expect(readFileSync(join(out, 'old.txt'), 'utf8')).toBe('old');
    expect(existsSync(staging)).toBe(false);
  });
});

describe('checksums', () => {
  it('lists every file with sha256 and size, with / separators', async () => {
    const root = scratch();
    mkdirSync(join(root, 'tokenizer'));
    writeFileSync(join(root, 'tokenizer', 'vocab.txt'), 'abc');
    writeFileSync(join(root, 'manifest.json'), '{}');
    const files = await checksumTree(root, ['manifest.json']);
    expect(files).toEqual([
      {
        path: 'tokenizer/vocab.txt',
        size: 3,
        sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      },
    ]);
    expect(await sha256File(join(root, 'tokenizer', 'vocab.txt'))).toBe(files[0]!.sha256);
  });
});
