import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { openBridge, type BridgeSession } from '../../src/bridge/session.js';
import { inspectModel } from '../../src/export/model-spec.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { bridgePython, leftovers, runCli, scratchDir } from '../helpers/cli.js';
import {
  applyJsonEdits,
  caught,
  expectConsistentSpec,
  expectUserError,
  FUZZ_SEED,
  fuzzParameters,
  jsonEdit,
  STACK_LINE,
  type JsonEdit,
} from './fuzz-support.js';

/**
 * End to end through the real bridge (torch.load in Python, validation in TS). Each bridge start costs
 * seconds, so the cases are generated up front with the fixed seed (fc.sample), their files written by one
 * Python process, and all inspected through one bridge; a failure names the seed and the case.
 */
const FIXTURE = fixturePath('tiny-mean-gelu');

interface HeadsCase {
  edits: JsonEdit[];
  drop: number[];
}

describe('fuzz: task_heads.pt metadata and encoder config.json through the bridge', () => {
  const root = scratchDir('rfe-fuzz-heads-');
  let metadata: Record<string, unknown>;
  let stateKeys: string[];
  let session: BridgeSession;
  const headsCases = fc.sample(
    fc.record({
      edits: fc.array(jsonEdit, { minLength: 1, maxLength: 2 }),
      drop: fc.array(fc.nat({ max: 100 }), { maxLength: 1 }),
    }),
    fuzzParameters<HeadsCase>(16),
  );
  const configCases = fc.sample(fc.array(jsonEdit, { minLength: 1, maxLength: 2 }), fuzzParameters<JsonEdit[]>(4));

  beforeAll(async () => {
    const python = await bridgePython();
    const dump = await execa(python, [
      '-c',
      [
        'import json, sys, torch',
        'd = torch.load(sys.argv[1], weights_only=True)',
        'meta = {k: d[k] for k in ("task_num_labels", "task_label2id", "head_config", "pooling")}',
        'meta["task_id2label"] = {t: {str(i): l for i, l in m.items()} for t, m in d["task_id2label"].items()}',
        'print(json.dumps({"metadata": meta, "state": list(d["task_heads"].keys())}))',
      ].join('\n'),
      join(FIXTURE, 'task_heads.pt'),
    ]);
    ({ metadata, state: stateKeys } = JSON.parse(dump.stdout) as {
      metadata: Record<string, unknown>;
      state: string[];
    });
    const cases = headsCases.map((fuzz, index) => {
      const dir = join(root, `heads-${index}`);
      mkdirSync(dir);
      symlinkSync(join(FIXTURE, 'encoder'), join(dir, 'encoder'));
      return {
        dir,
        metadata: applyJsonEdits(metadata, fuzz.edits),
        drop: fuzz.drop.map((n) => stateKeys[n % stateKeys.length]),
      };
    });
    writeFileSync(join(root, 'cases.json'), JSON.stringify(cases));
    await execa(python, [
      join(PACKAGE_ROOT, 'test', 'fuzz', 'make_task_heads.py'),
      join(FIXTURE, 'task_heads.pt'),
      join(root, 'cases.json'),
    ]);
    configCases.forEach((edits, index) => {
      const dir = join(root, `config-${index}`);
      mkdirSync(join(dir, 'encoder'), { recursive: true });
      cpSync(join(FIXTURE, 'task_heads.pt'), join(dir, 'task_heads.pt'));
      for (const name of readdirSync(join(FIXTURE, 'encoder'))) {
        if (name !== 'config.json') symlinkSync(join(FIXTURE, 'encoder', name), join(dir, 'encoder', name));
      }
      const config = JSON.parse(readFileSync(join(FIXTURE, 'encoder', 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'encoder', 'config.json'), JSON.stringify(applyJsonEdits(config, edits), null, 2));
    });
    session = await openBridge({});
  }, 10 * 60_000);

  afterAll(async () => {
    await session?.client.close();
  });

  // task_heads.pt with fuzzed metadata (a valid torch.save file): refused naming task_heads.pt, or a consistent spec
  it(`task_heads.pt metadata: user error naming the file, or a consistent spec (${headsCases.length} cases)`, async () => {
    let accepted = 0;
    for (const [index, fuzz] of headsCases.entries()) {
      const dir = join(root, `heads-${index}`);
      const error = await caught(async () => {
        expectConsistentSpec(await inspectModel(session.client, dir));
        accepted += 1;
      });
      try {
        if (error) expectUserError(error, join(dir, 'task_heads.pt'));
      } catch (failure) {
        throw new Error(
          `case ${index} of FUZZ_SEED=${FUZZ_SEED} (${JSON.stringify(fuzz)}): ${(failure as Error).message}`,
          { cause: failure },
        );
      }
    }
    process.stderr.write(
      `[fuzz] task_heads.pt metadata (bridge): ${headsCases.length} cases, ${accepted} accepted (seed ${FUZZ_SEED})\n`,
    );
  }, 120_000);

  // encoder/config.json edited: refused naming config.json, or a consistent spec
  it(`encoder config.json: user error naming the file, or a consistent spec (${configCases.length} cases)`, async () => {
    for (const [index, edits] of configCases.entries()) {
      const dir = join(root, `config-${index}`);
      const error = await caught(async () => expectConsistentSpec(await inspectModel(session.client, dir)));
      try {
        if (error) expectUserError(error, join(dir, 'encoder'));
      } catch (failure) {
        throw new Error(
          `case ${index} of FUZZ_SEED=${FUZZ_SEED} (${JSON.stringify(edits)}): ${(failure as Error).message}`,
          { cause: failure },
        );
      }
    }
    process.stderr.write(`[fuzz] encoder config.json (bridge): ${configCases.length} cases (seed ${FUZZ_SEED})\n`);
  }, 120_000);

  // the CLI on a truncated task_heads.pt (the export, not just inspect): exit 2 naming the file, no stack trace, nothing at -o
  // (random bytes: test/integration/bad-input.test.ts)
  it.each([['truncated', (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length * 0.6))] as const])(
    'rapidfit-export on a %s task_heads.pt exits 2 naming it, with no output',
    async (_name, damage) => {
      const dir = join(root, `cli-${_name.replace(' ', '-')}`);
      mkdirSync(dir);
      symlinkSync(join(FIXTURE, 'encoder'), join(dir, 'encoder'));
      writeFileSync(join(dir, 'task_heads.pt'), damage(readFileSync(join(FIXTURE, 'task_heads.pt'))));
      const out = join(root, `${_name.replace(' ', '-')}-out`);
      const run = await runCli([dir, '-o', out, '--no-progress']);
      expect(run.exitCode, run.stderr).toBe(2);
      expect(run.stderr).toContain(join(dir, 'task_heads.pt'));
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(out)).toBe(false);
      expect(leftovers(root)).toEqual([]);
    },
    120_000,
  );
});
