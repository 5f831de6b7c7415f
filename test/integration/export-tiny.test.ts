import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifestSchema } from '../../src/config/manifest.js';
import { parityReportSchema } from '../../src/config/report.js';
import { taskConfigSchema } from '../../src/export/task-config.js';
import { fixturePath } from '../../fixtures/models.mjs';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { bridgePython, leftovers, runCli, scratchDir } from '../helpers/cli.js';

const TEXTS = [
  'I love this product!',
  'Terrible, never again.',
  'ok',
  'Das ist ein langer Satz mit vielen Wörtern. '.repeat(20),
  '🔥🔥',
];

function int64(rows: number[][]): ort.Tensor {
  const width = rows[0]!.length;
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, width]);
}

describe('rapidfit-export on the tiny 3-task RapidFit model', () => {
  const root = scratchDir();
  const out = join(root, 'bundle');
  let run: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    // the tiny random heads have near-tied logits: the INT8 choice is tested on minilm-fortunes
    // (int8-fidelity.test.ts); here 10-bit weights with float compute, gated at 0.99 on all the samples
    // (ORT's dynamic method flips 1-3 of the 213 texts on the topic head depending on how they are
    // batched: too close to the gate for a test of the export itself)
    run = await runCli([fixturePath('tiny-mean-gelu'), '-o', out, '--int8', 'weight-only-10', '--json']);
  }, 10 * 60_000);

  it('exits 0 and prints a JSON result that names every task', () => {
    expect(run.stderr).not.toMatch(/Traceback|at .*\.js:\d+/);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as { ok: boolean; verified: boolean; tasks: string[] };
    expect(result).toMatchObject({ ok: true, verified: true, tasks: ['sentiment', 'topic', 'spam'] });
  });

  it('writes the RapidFit layout, tokenizer, manifest and parity reports, and nothing beside the bundle', () => {
    const names = readdirSync(out).sort();
    for (const task of ['sentiment', 'topic', 'spam']) {
      expect(names).toContain(`${task}.onnx`);
      expect(names).toContain(`${task}_int8.onnx`);
      expect(names).toContain(`${task}_config.json`);
    }
    expect(names).toEqual(
      expect.arrayContaining(['tokenizer', 'manifest.json', 'parity-report.json', 'parity-report.md']),
    );
    expect(readdirSync(join(out, 'tokenizer'))).toContain('tokenizer.json');
    expect(readdirSync(root)).toEqual(['bundle']);
  });

  it('records sha256 and size of every file in the manifest', () => {
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.verified).toBe(true);
    const listed = manifest.files.map((file) => file.path).sort();
    const onDisk = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name !== 'manifest.json')
      .map((entry) => join(entry.parentPath, entry.name).slice(out.length + 1))
      .sort();
    expect(listed).toEqual(onDisk);
    for (const file of manifest.files) {
      const bytes = readFileSync(join(out, file.path));
      expect(bytes.length).toBe(file.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
    }
    expect(manifest.bridge.lockSha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(PACKAGE_ROOT, 'python-bridge', 'requirements.lock')))
        .digest('hex'),
    );
    expect(manifest.bridge.versions.torch).toBe('2.15.0');
  });

  it('writes RapidFit-compatible configs that agree with the model', () => {
    const sizes: Record<string, number> = { sentiment: 3, topic: 5, spam: 2 };
    for (const [task, labels] of Object.entries(sizes)) {
      const config = taskConfigSchema.parse(JSON.parse(readFileSync(join(out, `${task}_config.json`), 'utf8')));
      expect(Object.keys(config.id2label)).toEqual(Array.from({ length: labels }, (_, i) => String(i)));
      for (const [id, label] of Object.entries(config.id2label)) expect(config.label2id[label]).toBe(Number(id));
      expect(config).toMatchObject({
        max_length: 128,
        pooling: 'mean',
        input_names: ['input_ids', 'attention_mask'],
        output_name: 'logits',
      });
    }
  });

  it('passes FP32 parity on every task at 1e-4 over the embedded samples', () => {
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8')));
    expect(report.passed).toBe(true);
    expect(report.samples.count).toBeGreaterThanOrEqual(200);
    for (const task of report.tasks) {
      expect(task.comparisons.fp32!.maxAbsDiff).not.toBeNull();
      expect(task.comparisons.fp32!.maxAbsDiff!).toBeLessThanOrEqual(1e-4);
      expect(task.comparisons.fp32!.top1Agreement).toBe(1);
    }
    expect(readFileSync(join(out, 'parity-report.md'), 'utf8')).toMatch(/\| sentiment \| FP32 ONNX vs PyTorch \|/);
  });

  it('produces graphs with the RapidFit interface and dynamic batch and sequence axes', async () => {
    for (const [task, labels] of Object.entries({ sentiment: 3, topic: 5, spam: 2 })) {
      const session = await ort.InferenceSession.create(join(out, `${task}.onnx`));
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
      expect(session.outputNames).toEqual(['logits']);
      for (const [batch, length] of [
        [1, 3],
        [5, 40],
      ] as const) {
        const ids = Array.from({ length: batch }, () => Array.from({ length }, (_, i) => 100 + i));
        const mask = ids.map((row, r) => row.map((_, i) => (i < length - r ? 1 : 0)));
        const result = await session.run({ input_ids: int64(ids), attention_mask: int64(mask) });
        expect(result.logits!.dims).toEqual([batch, labels]);
      }
      await session.release();
    }
  });

  it("matches rapidfit's own MultiheadClassifier.load() forward (an oracle independent of the bridge)", async () => {
    const python = await bridgePython();
    const reference = await execa(
      python,
      [join(PACKAGE_ROOT, 'fixtures', 'rapidfit_reference.py'), fixturePath('tiny-mean-gelu'), '128'],
      {
        input: JSON.stringify(TEXTS),
        env: { PYTHONWARNINGS: 'ignore' },
      },
    );
    const oracle = JSON.parse(reference.stdout) as {
      input_ids: number[][];
      attention_mask: number[][];
      logits: Record<string, number[][]>;
    };
    for (const [task, expected] of Object.entries(oracle.logits)) {
      const session = await ort.InferenceSession.create(join(out, `${task}.onnx`));
      const result = await session.run({
        input_ids: int64(oracle.input_ids),
        attention_mask: int64(oracle.attention_mask),
      });
      const actual = Array.from(result.logits!.data as Float32Array);
      const diff = Math.max(...expected.flat().map((value, index) => Math.abs(value - actual[index]!)));
      expect(diff).toBeLessThanOrEqual(1e-4);
      await session.release();
    }
  });

  it('re-running replaces the bundle in place and leaves no temporary directories', async () => {
    const second = await runCli([
      fixturePath('tiny-mean-gelu'),
      '-o',
      out,
      '--tasks',
      'spam',
      '--int8',
      'dynamic',
      '--no-progress',
    ]);
    expect(second.exitCode).toBe(0);
    expect(readdirSync(out).filter((name) => name.endsWith('.onnx'))).toEqual(['spam.onnx', 'spam_int8.onnx']);
    expect(leftovers(root)).toEqual([]);
  });
});

describe('other head shapes, poolings and formats', () => {
  it.each([
    ['tiny-cls-relu', ['intent', 'urgent'], 'cls'],
    ['tiny-max-tanh', ['language', 'toxic'], 'max'],
  ] as const)(
    '%s exports and passes FP32 parity',
    async (fixture, tasks, pooling) => {
      const out = join(scratchDir(), 'bundle');
      // random tiny heads have near-tied logits: INT8 agreement is not what these cases test
      const run = await runCli([
        fixturePath(fixture),
        '-o',
        out,
        '--json',
        '--samples-limit',
        '60',
        '--quantize',
        'none',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      const report = parityReportSchema.parse(JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8')));
      expect(report.tasks.map((task) => task.task)).toEqual(tasks);
      for (const task of report.tasks) expect(task.comparisons.fp32!.maxAbsDiff!).toBeLessThanOrEqual(1e-4);
      expect(JSON.parse(readFileSync(join(out, `${tasks[0]}_config.json`), 'utf8')).pooling).toBe(pooling);
    },
    10 * 60_000,
  );

  it(
    'exports a plain Hugging Face sequence classifier as one task named by --task-name',
    async () => {
      const out = join(scratchDir(), 'bundle');
      const run = await runCli([
        fixturePath('tiny-hf-seqcls'),
        '-o',
        out,
        '--task-name',
        'support',
        '--json',
        '--samples-limit',
        '60',
        '--quantize',
        'none',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(existsSync(join(out, 'support.onnx'))).toBe(true);
      const config = JSON.parse(readFileSync(join(out, 'support_config.json'), 'utf8'));
      expect(config).toMatchObject({ format: 'hf-sequence-classification', num_labels: 4, pooling: null });
      expect(config.id2label).toEqual({ '0': 'billing', '1': 'shipping', '2': 'returns', '3': 'technical' });
    },
    10 * 60_000,
  );
});

describe('rapidfit-export inspect', () => {
  it(
    'prints tasks, labels, pooling, head shape and parameter count',
    async () => {
      const run = await runCli(['inspect', fixturePath('tiny-cls-relu')]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/format\s+rapidfit/);
      expect(run.stdout).toMatch(/pooling\s+cls/);
      expect(run.stdout).toMatch(/heads\s+2 hidden layer\(s\) x1, relu/);
      expect(run.stdout).toMatch(/intent: 4 labels \[[^\]]+\]; head 32->32, 32->32, 32->4/);
      const json = await runCli(['inspect', fixturePath('tiny-cls-relu'), '--json']);
      const spec = JSON.parse(json.stdout);
      expect(spec.tasks.map((task: { name: string }) => task.name)).toEqual(['intent', 'urgent']);
      expect(spec.parameterCount).toBeGreaterThan(1_000_000);
      expect(spec.sizeBytes).toBeGreaterThan(4_000_000);
    },
    5 * 60_000,
  );
});
