import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ModelSpec } from '../../src/config/model-spec.js';
import { ExitCode, ToolError, formatToolError } from '../../src/errors.js';
import { fixturePath } from '../../fixtures/models.mjs';
import { runCli } from '../helpers/cli.js';

/**
 * Every property runs with one fixed seed (FUZZ_SEED overrides it) so that a failure reproduces; fast-check
 * prints the seed and the counterexample's path on failure. FUZZ_RUNS scales the case counts (1 = CI).
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);

/** Cases run by each property (for docs/reliability.md), filled in as the properties run. */
const casesRun = new Map<string, number>();

/** Prints the case count of every property this file ran (afterAll). */
export function printCases(): void {
  for (const [name, count] of casesRun) process.stderr.write(`[fuzz] ${name}: ${count} cases (seed ${FUZZ_SEED})\n`);
}

export function fuzzParameters<T = unknown>(numRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)), endOnFailure: true };
}

/** fc.assert with the fixed seed and `numRuns` cases; records the count under `name`. */
export async function check<T>(name: string, property: fc.IRawProperty<T>, numRuns: number): Promise<void> {
  const parameters = fuzzParameters<T>(numRuns);
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    // fast-check's own message names the seed and path too; this line makes the seed impossible to miss
    process.stderr.write(`[fuzz] ${name} failed with FUZZ_SEED=${FUZZ_SEED}\n`);
    throw error;
  }
  casesRun.set(name, parameters.numRuns!);
}

/** A line of a stack trace ("    at f (file.js:1:2)"), which no user-facing message may hold. */
export const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

/**
 * The property every bad input must meet at the library level: a ToolError with exit code 2 (never a raw
 * Error, which the CLI reports as an internal error, exit 1), naming `file` (in details.file or the
 * message), with no stack trace in its message.
 */
export function expectUserError(error: unknown, file: string | RegExp): asserts error is ToolError {
  if (!(error instanceof ToolError)) {
    throw new Error(
      `expected a ToolError (exit 2), got ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`,
      {
        cause: error,
      },
    );
  }
  const shown = formatToolError(error);
  expect(error.exitCode, shown).toBe(ExitCode.badInput);
  if (typeof file === 'string') expect(shown, 'the message names the file').toContain(file);
  else expect(shown, 'the message names the file').toMatch(file);
  expect(shown).not.toMatch(STACK_LINE);
}

/** Runs `action`: its value, or the error it throws. */
export async function attempt<T>(action: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await action() };
  } catch (error) {
    return { error };
  }
}

/** Runs `action`; returns the error it throws, or undefined when it succeeds. */
export async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
    return undefined;
  } catch (error) {
    return error;
  }
}

function scratchRoot(): string {
  return process.env.RFE_TEST_TMP ?? tmpdir();
}

/**
 * A small real bundle (tiny-mean-gelu, task "sentiment", FP32, weights in external data, 8 samples),
 * exported once per test run and shared by the fuzz files: the first file to ask exports it, the others
 * wait for its manifest (the export renames the bundle into place complete, so the manifest appears last).
 */
export async function sharedBundle(): Promise<string> {
  // FUZZ_BUNDLE: reuse a bundle exported the same way (while iterating on the properties)
  if (process.env.FUZZ_BUNDLE) return process.env.FUZZ_BUNDLE;
  const bundle = join(scratchRoot(), 'fuzz-bundle');
  const lock = join(scratchRoot(), 'fuzz-bundle.lock');
  const manifest = join(bundle, 'manifest.json');
  if (existsSync(manifest)) return bundle;
  let owner = false;
  try {
    mkdirSync(lock);
    owner = true;
  } catch {
    // another test file is exporting it
  }
  if (owner) {
    const run = await runCli([
      fixturePath('tiny-mean-gelu'),
      '-o',
      bundle,
      '--tasks',
      'sentiment',
      '--samples-limit',
      '8',
      '--quantize',
      'none',
      '--no-latency',
      '--external-data',
      '--no-progress',
    ]);
    if (run.exitCode !== 0) {
      writeFileSync(join(lock, 'failed'), run.stderr);
      throw new Error(`exporting the fuzz bundle failed (${run.exitCode}): ${run.stderr}`);
    }
    return bundle;
  }
  const deadline = Date.now() + 10 * 60_000;
  while (!existsSync(manifest)) {
    if (existsSync(join(lock, 'failed'))) throw new Error('exporting the fuzz bundle failed in another test file');
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${bundle}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return bundle;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One edit of a JSON document: at the `pick`-th value (pre-order), do `op`. */
export interface JsonEdit {
  pick: number;
  op: 'delete' | 'replace' | 'rename' | 'retype' | 'empty' | 'duplicate' | 'negate' | 'fraction' | 'huge';
  value: unknown;
  key: string;
}

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({
  pick: fc.noBias(fc.nat({ max: 100_000 })),
  op: fc.constantFrom<JsonEdit['op']>(
    'delete',
    'replace',
    'rename',
    'retype',
    'empty',
    'duplicate',
    'negate',
    'fraction',
    'huge',
  ),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom('__proto__', 'constructor', '', '../x', -1, 0, 1e308, 0.5, null),
  ),
  key: fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('__proto__', 'constructor', 'toString', '0', '-1', '1.0', '01'),
  ),
});

/** Every (parent, key) of a JSON document in pre-order; the root has no parent. */
function slots(root: Json): Array<[Json[] | { [key: string]: Json }, string | number]> {
  const out: Array<[Json[] | { [key: string]: Json }, string | number]> = [];
  const walk = (value: Json) => {
    if (Array.isArray(value)) value.forEach((item, index) => (out.push([value, index]), walk(item)));
    else if (value && typeof value === 'object')
      for (const key of Object.keys(value)) {
        out.push([value, key]);
        walk(value[key]!);
      }
  };
  walk(root);
  return out;
}

/** Applies `edits` to a deep copy of `document` (each edit picks a value modulo the number of values then). */
export function applyJsonEdits(document: unknown, edits: readonly JsonEdit[]): unknown {
  const root = JSON.parse(JSON.stringify(document)) as Json;
  for (const edit of edits) {
    const all = slots(root);
    if (all.length === 0) break;
    const [parent, key] = all[edit.pick % all.length]!;
    const current = (parent as Record<string | number, Json>)[key]!;
    const set = (value: Json) => {
      // defineProperty, so that a key "__proto__" becomes a real key as JSON.parse would make it
      Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
    };
    switch (edit.op) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 'replace':
        set(edit.value as Json);
        break;
      case 'rename':
        if (!Array.isArray(parent)) {
          delete parent[key as string];
          Object.defineProperty(parent, edit.key, {
            value: current,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        break;
      case 'retype':
        set(
          typeof current === 'string' && current.trim() !== '' && Number.isFinite(Number(current))
            ? Number(current)
            : typeof current === 'number'
              ? String(current)
              : typeof current === 'string'
                ? 7
                : JSON.stringify(current),
        );
        break;
      case 'empty':
        set(Array.isArray(current) ? [] : current && typeof current === 'object' ? {} : '');
        break;
      case 'duplicate':
        if (Array.isArray(current) && current.length > 0) set([...current, current[0]!]);
        else if (Array.isArray(parent)) parent.push(current);
        break;
      case 'negate':
        if (typeof current === 'number') set(-current - 1);
        break;
      case 'fraction':
        if (typeof current === 'number') set(current + 0.5);
        break;
      case 'huge':
        if (typeof current === 'number') set(1e300);
        else if (typeof current === 'string') set(current.repeat(2) + '\u0000\u{1F600}');
        break;
    }
  }
  return root;
}

/** JSON text of an edited document: usually JSON.stringify, sometimes also with a few bytes changed or cut. */
export const jsonDamage = fc.record({
  edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
  bytes: fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.noBias(fc.nat({ max: 1_000_000 })), fc.integer({ min: 0, max: 255 }), fc.boolean()),
    },
  ),
});

export function damagedJson(
  document: unknown,
  damage: { edits: JsonEdit[]; bytes: [number, number, boolean] | null },
): Buffer {
  const text = Buffer.from(JSON.stringify(applyJsonEdits(document, damage.edits), null, 2));
  if (!damage.bytes) return text;
  const [where, value, truncate] = damage.bytes;
  const at = where % Math.max(1, text.length);
  if (truncate) return text.subarray(0, at);
  text[at] = value;
  return text;
}

/**
 * What an accepted model must be (task_heads.pt metadata, encoder config.json): unique file-safe task names,
 * id2label exactly "0".."n-1" with label2id its inverse, a head whose layers chain and end in n logits.
 */
export function expectConsistentSpec(spec: ModelSpec): void {
  const names = spec.tasks.map((task) => task.name);
  expect(new Set(names).size, 'task names are unique').toBe(names.length);
  expect(
    spec.encoder.hiddenSize === null || (Number.isInteger(spec.encoder.hiddenSize) && spec.encoder.hiddenSize > 0),
  ).toBe(true);
  for (const task of spec.tasks) {
    expect(task.name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Number.isInteger(task.numLabels) && task.numLabels > 0).toBe(true);
    expect(Object.keys(task.id2label).sort()).toEqual(
      Array.from({ length: task.numLabels }, (_, id) => String(id)).sort(),
    );
    expect(Object.keys(task.label2id)).toHaveLength(task.numLabels);
    for (const [id, label] of Object.entries(task.id2label)) {
      expect(typeof label).toBe('string');
      expect(Object.hasOwn(task.label2id, label) && task.label2id[label]).toBe(Number(id));
    }
    expect(task.headLayers.at(-1)![0]).toBe(task.numLabels);
    for (const [index, layer] of task.headLayers.entries()) {
      expect(
        layer.every((size) => Number.isInteger(size) && size > 0),
        `layer ${index} sizes`,
      ).toBe(true);
      if (index > 0) expect(layer[1]).toBe(task.headLayers[index - 1]![0]);
    }
  }
}
