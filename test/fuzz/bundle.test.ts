import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/predict/bundle.js';
import { verifyBundle } from '../../src/verify/bundle-check.js';
import { gatesFromManifest } from '../../src/verify/gates.js';
import { rechecksum } from '../helpers/bundle-files.js';
import { runCli, scratchDir } from '../helpers/cli.js';
import {
  caught,
  check,
  damagedJson,
  expectUserError,
  jsonDamage,
  printCases,
  sharedBundle,
  STACK_LINE,
} from './fuzz-support.js';

/** Paths a manifest names must stay inside the bundle. */
function insideBundle(path: string): boolean {
  return path !== '' && !isAbsolute(path) && !/^[A-Za-z]:/.test(path) && !path.split(/[\\/]/).includes('..');
}

describe("fuzz: a bundle's manifest.json and verification.json (verify and predict, no Python)", () => {
  let base: string;
  let work: string;
  let manifest: Record<string, unknown>;
  let verification: { batches: Array<{ texts: string[] }> };

  beforeAll(async () => {
    base = await sharedBundle();
    work = scratchDir('rfe-fuzz-bundle-');
    manifest = JSON.parse(readFileSync(join(base, 'manifest.json'), 'utf8'));
    verification = JSON.parse(readFileSync(join(base, 'verification.json'), 'utf8'));
  }, 10 * 60_000);
  afterAll(printCases);

  function fresh(): string {
    const dir = join(work, 'bundle');
    rmSync(dir, { recursive: true, force: true });
    cpSync(base, dir, { recursive: true });
    return dir;
  }

  // manifest.json: refused naming the bundle, or every graph/config path inside the bundle and checksummed, and gates with finite limits
  it('manifest.json damaged: user error naming the bundle, or a verification whose files are all checksummed', async () => {
    let accepted = 0;
    await check(
      'manifest.json',
      fc.asyncProperty(jsonDamage, async (damage) => {
        const dir = fresh();
        writeFileSync(join(dir, 'manifest.json'), damagedJson(manifest, damage));
        const error = await caught(async () => {
          const result = await verifyBundle(dir, gatesFromManifest);
          const listed = new Set(result.manifest.files.map((file) => file.path));
          for (const task of result.manifest.tasks) {
            for (const path of [task.fp32, task.config, task.weights, task.int8, task.int8Weights].filter(
              (p): p is string => p !== undefined,
            )) {
              expect(insideBundle(path), `${path} is inside the bundle`).toBe(true);
              expect(listed.has(path), `${path} is checksummed by the manifest`).toBe(true);
            }
          }
          for (const task of result.tasks)
            for (const gate of task.gates) expect(Number.isFinite(gate.limit)).toBe(true);
          const bundle = await loadBundle(dir, { variant: 'fp32' });
          await bundle.close();
          accepted += 1;
        });
        if (error) expectUserError(error, dir);
      }),
      30,
    );
    expect(accepted, 'edits of fields nothing reads (createdAt, runtime) are accepted').toBeGreaterThan(0);
  }, 120_000);

  // verification.json (re-checksummed in the manifest): refused naming the bundle, or the graphs compared on every stored text
  it('verification.json damaged: user error naming the bundle, or every stored text compared', async () => {
    let accepted = 0;
    await check(
      'verification.json',
      fc.asyncProperty(jsonDamage, async (damage) => {
        const dir = fresh();
        const text = damagedJson(verification, damage);
        writeFileSync(join(dir, 'verification.json'), text);
        rechecksum(dir, 'verification.json');
        const error = await caught(async () => {
          const result = await verifyBundle(dir, gatesFromManifest);
          const stored = JSON.parse(text.toString()) as typeof verification;
          const count = stored.batches.reduce((sum, batch) => sum + batch.texts.length, 0);
          for (const task of result.tasks) expect(task.comparisons.fp32?.samples).toBe(count);
          accepted += 1;
        });
        if (error) expectUserError(error, dir);
      }),
      30,
    );
    expect(accepted).toBeGreaterThan(0);
  }, 120_000);

  // the graph or its weights damaged and re-checksummed (a hand-edited bundle): refused naming the bundle's file, or compared on every stored text
  it('graph and weights files damaged (re-checksummed): user error naming the file, or every stored text compared', async () => {
    const count = verification.batches.reduce((sum, batch) => sum + batch.texts.length, 0);
    await check(
      'bundle graph / weights bytes',
      fc.asyncProperty(
        fc.constantFrom('sentiment.onnx', 'sentiment_weights.bin'),
        fc.array(fc.tuple(fc.noBias(fc.nat({ max: 2 ** 30 })), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.boolean(),
        async (name, changes, truncate) => {
          const dir = fresh();
          const file = join(dir, name);
          let bytes = readFileSync(file);
          for (const [where, value] of changes) bytes[where % bytes.length] = value;
          if (truncate) bytes = bytes.subarray(0, changes[0]![0] % bytes.length);
          writeFileSync(file, bytes);
          rechecksum(dir, name);
          const error = await caught(async () => {
            const result = await verifyBundle(dir, gatesFromManifest);
            expect(result.tasks[0]!.comparisons.fp32?.samples).toBe(count);
          });
          if (error) expectUserError(error, dir);
        },
      ),
      20,
    );
  }, 120_000);

  // end to end: `verify` on a few damaged manifests exits 0, 2 or 3 (a stricter recorded gate), never 1, never a stack trace
  it('rapidfit-export verify on damaged manifests exits 0, 2 or 3, never 1, never a stack trace', async () => {
    await check(
      'verify CLI (manifest.json)',
      fc.asyncProperty(jsonDamage, async (damage) => {
        const dir = fresh();
        writeFileSync(join(dir, 'manifest.json'), damagedJson(manifest, damage));
        const run = await runCli(['verify', dir]);
        expect([0, 2, 3], run.stderr).toContain(run.exitCode);
        expect(run.stderr).not.toMatch(STACK_LINE);
        if (run.exitCode === 2) expect(run.stderr).toContain(dir);
      }),
      4,
    );
  }, 120_000);
});
