import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { rechecksum } from '../helpers/bundle-files.js';
import { runCli, scratchDir } from '../helpers/cli.js';

describe('rapidfit-export verify <bundle> (no Python) and CI outputs', () => {
  const root = scratchDir('rfe-verify-');
  const bundle = join(root, 'bundle');
  const summary = join(root, 'summary.md');

  beforeAll(async () => {
    const run = await runCli(
      [
        fixturePath('tiny-mean-gelu'),
        '-o',
        bundle,
        '--samples-limit',
        '60',
        '--int8',
        'dynamic',
        '--junit',
        join(root, 'export.xml'),
        '--no-progress',
      ],
      {
        GITHUB_STEP_SUMMARY: summary,
      },
    );
    expect(run.exitCode, run.stderr).toBe(0);
  }, 5 * 60_000);

  function copy(name: string): string {
    const dir = join(root, name);
    cpSync(bundle, dir, { recursive: true });
    return dir;
  }

  it('passes on the bundle as written, re-running the stored samples of every graph', async () => {
    const run = await runCli(['verify', bundle, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.ok).toBe(true);
    expect(
      result.tasks.map((t: { task: string; comparisons: object }) => [t.task, Object.keys(t.comparisons)]),
    ).toEqual([
      ['sentiment', ['fp32', 'int8', 'multihead-fp32', 'multihead-int8']],
      ['topic', ['fp32', 'int8', 'multihead-fp32', 'multihead-int8']],
      ['spam', ['fp32', 'int8', 'multihead-fp32', 'multihead-int8']],
    ]);
    expect(result.tasks[0].comparisons.fp32.samples).toBe(60);
    expect(result.tasks[0].comparisons.fp32.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('wrote JUnit XML and the GitHub step summary during the export', () => {
    const xml = readFileSync(join(root, 'export.xml'), 'utf8');
    // per task: the FP32 and INT8 gates of its own graphs and of its multihead.onnx output
    expect(xml).toMatch(/<testsuite name="rapidfit-export parity" tests="12" failures="0">/);
    expect(xml).toMatch(/<testcase classname="topic" name="multihead-int8 top1Agreement &gt;= 0\.9900">/);
    expect(xml).toMatch(/<testcase classname="topic" name="int8 top1Agreement &gt;= 0\.9900">/);
    expect(readFileSync(summary, 'utf8')).toMatch(/# Parity report: PASSED[\s\S]*\| spam \| INT8 ONNX vs PyTorch \|/);
  });

  it.each([
    [
      'a changed byte',
      (dir: string) => {
        const file = join(dir, 'spam_int8.onnx');
        const bytes = readFileSync(file);
        bytes[bytes.length - 10] ^= 0xff;
        writeFileSync(file, bytes);
      },
      /spam_int8\.onnx was altered \(sha256 differs from the manifest\)/,
    ],
    ['a missing file', (dir: string) => rmSync(join(dir, 'topic.onnx')), /topic\.onnx is missing/],
    [
      'an extra file',
      (dir: string) => writeFileSync(join(dir, 'notes.txt'), 'hi'),
      /notes\.txt is not in the manifest/,
    ],
    [
      'a manifest that does not parse',
      (dir: string) => writeFileSync(join(dir, 'manifest.json'), '{ nope'),
      /manifest\.json does not parse/,
    ],
  ] as const)('refuses %s with exit 2', async (name, damage, message) => {
    const dir = copy(name.replace(/\W+/g, '-'));
    damage(dir);
    const run = await runCli(['verify', dir]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('a deliberately damaged INT8 graph (checksums updated) fails its gate with exit 3 and names the task', async () => {
    const dir = copy('damaged');
    const file = join(dir, 'topic_int8.onnx');
    const model = decodeModel(readFileSync(file));
    // flip the sign of the last head layer's weight scale: the INT8 logits are negated
    const scale = model.graph!.initializer!.filter((t) => /topic\.\d+\.weight.*_scale$/.test(t.name ?? '')).pop()!;
    scale.float_data = scale.float_data!.map((v) => -v);
    writeFileSync(file, encodeModel(model));
    rechecksum(dir, 'topic_int8.onnx');
    const run = await runCli(['verify', dir, '--junit', join(root, 'damaged.xml')]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/parity gate failed: task "topic": int8 top1Agreement = [0-9.e-]+, limit >= 0\.9900/);
    expect(run.stderr).not.toMatch(/task "(sentiment|spam)"/);
    expect(readFileSync(join(root, 'damaged.xml'), 'utf8')).toMatch(
      /<testcase classname="topic" name="int8 top1Agreement &gt;= 0\.9900"><failure message=/,
    );
  });
});

describe('bad samples files and gate specs: exit 2, nothing written', () => {
  it.each([
    ['an empty samples file', 'empty.txt', Buffer.from('\n\n'), /the samples file has no texts/],
    [
      'a samples file that is not UTF-8',
      'latin1.txt',
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
      /line 1 is not valid UTF-8/,
    ],
    [
      'labels for an unknown task',
      'labels.jsonl',
      Buffer.from('{"text": "hi", "labels": {"colour": "red"}}\n'),
      /line 1: task "colour" is not a task of the model \(tasks: /,
    ],
    [
      'an unknown label',
      'labels2.jsonl',
      Buffer.from('{"text": "hi", "labels": {"spam": "eggs"}}\n'),
      /line 1: task "spam" has no label "eggs"/,
    ],
  ] as const)(
    '%s',
    async (_name, fileName, content, message) => {
      const root = scratchDir('rfe-samples-');
      const samples = join(root, fileName);
      writeFileSync(samples, content);
      const run = await runCli([
        fixturePath('tiny-mean-gelu'),
        '-o',
        join(root, 'out'),
        '--samples',
        samples,
        '--no-progress',
      ]);
      expect(run.exitCode, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain(samples);
    },
    5 * 60_000,
  );

  it('a gates file that fails validation', async () => {
    const root = scratchDir('rfe-gates-');
    writeFileSync(join(root, 'gates.json'), JSON.stringify({ int8: { top5: 0.9 } }));
    const run = await runCli([fixturePath('tiny-mean-gelu'), '--gates-file', join(root, 'gates.json')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/gates\.json: invalid gates file at int8/);
  });

  it('a malformed --gate', async () => {
    const run = await runCli([fixturePath('tiny-mean-gelu'), '--gate', 'spam.int8.top2=1']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(
      /--gate: "spam\.int8\.top2=1": expected \[task\.\]fp32\|int8\|fp16\.max_abs\|top1\|accuracy_drop=<number>/,
    );
  });
});
