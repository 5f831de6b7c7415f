import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { manifestSchema } from '../../src/config/manifest.js';
import { parityReportSchema } from '../../src/config/report.js';
import { verificationSchema, type StoredBatch } from '../../src/config/verification.js';
import { readOnnx } from '../../src/onnx/model-file.js';
import { decodeModel, encodeModel, type TensorProto } from '../../src/onnx/proto.js';
import { DataType } from '../../src/onnx/tensor.js';
import { loadBundle } from '../../src/predict/index.js';
import { rechecksum } from '../helpers/bundle-files.js';
import { feeds } from '../helpers/ort-feeds.js';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';

const TASKS = ['sentiment', 'topic', 'spam'];
const FP16_MAX_ABS = 1e-2;
const FP16_TOP1 = 0.999;

function batches(bundle: string): StoredBatch[] {
  return verificationSchema.parse(JSON.parse(readFileSync(join(bundle, 'verification.json'), 'utf8'))).batches;
}

const argmax = (row: readonly number[]) => row.reduce((best, value, index) => (value > row[best]! ? index : best), 0);

interface Parity {
  maxAbsDiff: number;
  agreement: number;
  /** Texts whose top-1 differs from PyTorch's: PyTorch's gap between its two best logits, and the text's max abs diff. */
  flips: Array<{ gap: number; diff: number }>;
}

/** Runs a graph in onnxruntime-node on the stored batches and compares each task's output with PyTorch's stored logits (independently of the tool's code). */
async function parityOf(
  file: string,
  stored: StoredBatch[],
  outputs: Record<string, string>,
): Promise<Record<string, Parity>> {
  const session = await ort.InferenceSession.create(file);
  expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
  const out: Record<string, Parity> = Object.fromEntries(
    Object.keys(outputs).map((task) => [task, { maxAbsDiff: 0, agreement: 0, flips: [] }]),
  );
  let rows = 0;
  try {
    for (const batch of stored) {
      const results = await session.run(feeds(batch));
      for (const [task, output] of Object.entries(outputs)) {
        const tensor = results[output]!;
        expect(tensor.type).toBe('float32');
        const width = tensor.dims[1]!;
        const data = tensor.data as Float32Array;
        batch.reference[task]!.forEach((reference, row) => {
          const actual = Array.from(data.subarray(row * width, (row + 1) * width));
          const diff = Math.max(...actual.map((value, column) => Math.abs(value - reference[column]!)));
          const parity = out[task]!;
          parity.maxAbsDiff = Math.max(parity.maxAbsDiff, diff);
          if (argmax(actual) === argmax(reference)) parity.agreement += 1;
          else {
            const [first, second] = [...reference].sort((a, b) => b - a);
            parity.flips.push({ gap: first! - second!, diff });
          }
        });
      }
      rows += batch.inputIds.length;
    }
  } finally {
    await session.release();
  }
  for (const parity of Object.values(out)) parity.agreement /= rows;
  return out;
}

/** The FP16 graph's storage: float16 weights (none left float32 outside the kept ops), int64 inputs, float32 outputs. */
async function expectFloat16Graph(file: string, fp32File: string): Promise<void> {
  const { model, external } = await readOnnx(file);
  const graph = model.graph!;
  const typeOf = (value: { type?: unknown }) =>
    (value.type as { tensor_type?: { elem_type?: number } }).tensor_type?.elem_type;
  expect(graph.input!.map(typeOf)).toEqual([DataType.INT64, DataType.INT64]);
  expect(graph.output!.every((value) => typeOf(value) === DataType.FLOAT)).toBe(true);
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name!, tensor]));
  const bytes = (tensor: TensorProto) => external.get(tensor)?.length ?? tensor.raw_data?.length ?? 0;
  const matmulWeights = (graph.node ?? [])
    .filter((node) => node.op_type === 'MatMul' || node.op_type === 'Gemm')
    .flatMap((node) => node.input!.filter((name) => initializers.has(name)));
  expect(matmulWeights.length).toBeGreaterThan(0);
  for (const name of matmulWeights) expect(initializers.get(name)!.data_type, name).toBe(DataType.FLOAT16);
  const half = [...initializers.values()]
    .filter((tensor) => tensor.data_type === DataType.FLOAT16)
    .reduce((sum, tensor) => sum + bytes(tensor), 0);
  const single = [...initializers.values()]
    .filter((tensor) => tensor.data_type === DataType.FLOAT)
    .reduce((sum, tensor) => sum + bytes(tensor), 0);
  // float32 is left only for what LayerNormalization reads (scale, bias): under 1% of the weights
  expect(single).toBeLessThan(half / 100);
  const fp32 = await readOnnx(fp32File);
  const fp32Bytes = (fp32.model.graph!.initializer ?? []).reduce(
    (sum, tensor) => sum + (fp32.external.get(tensor)?.length ?? tensor.raw_data?.length ?? 0),
    0,
  );
  expect(half + single).toBeLessThan(fp32Bytes * 0.52);
  expect(half + single).toBeGreaterThan(fp32Bytes * 0.48);
}

describe('--fp16 on the tiny 3-task model', () => {
  const root = scratchDir('rfe-fp16-');
  const bundle = join(root, 'bundle');
  let stored: StoredBatch[];

  beforeAll(async () => {
    const run = await runCli([
      fixturePath('tiny-mean-gelu'),
      '-o',
      bundle,
      '--fp16',
      '--quantize',
      'none',
      '--no-progress',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    stored = batches(bundle);
  }, 5 * 60_000);

  it('lists <task>_fp16.onnx and multihead_fp16.onnx in the manifest, with checksums, and gates them in the report', () => {
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')));
    expect(manifest.tasks.map((task) => task.fp16)).toEqual(TASKS.map((task) => `${task}_fp16.onnx`));
    expect(manifest.multihead?.fp16).toBe('multihead_fp16.onnx');
    expect(manifest.options.fp16).toBe(true);
    for (const task of TASKS) expect(manifest.files.some((file) => file.path === `${task}_fp16.onnx`)).toBe(true);
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(bundle, 'parity-report.json'), 'utf8')));
    for (const task of report.tasks) {
      expect(
        task.gates
          .filter((gate) => gate.comparison.endsWith('fp16'))
          .map((gate) => [gate.comparison, gate.metric, gate.limit, gate.passed]),
      ).toEqual([
        ['fp16', 'maxAbsDiff', FP16_MAX_ABS, true],
        ['fp16', 'top1Agreement', FP16_TOP1, true],
        ['multihead-fp16', 'maxAbsDiff', FP16_MAX_ABS, true],
        ['multihead-fp16', 'top1Agreement', FP16_TOP1, true],
      ]);
      expect(task.sizes!.fp16! / task.sizes!.fp32!).toBeLessThan(0.55);
    }
    expect(readFileSync(join(bundle, 'parity-report.md'), 'utf8')).toMatch(
      /\| spam \| multihead_fp16\.onnx vs PyTorch \|.*\| pass maxAbsDiff <= 0\.0100; pass top1Agreement >= 0\.9990 \|/,
    );
  });

  it('stores float16 weights, takes int64 inputs and gives float32 outputs', async () => {
    for (const task of TASKS) await expectFloat16Graph(join(bundle, `${task}_fp16.onnx`), join(bundle, `${task}.onnx`));
    await expectFloat16Graph(join(bundle, 'multihead_fp16.onnx'), join(bundle, 'multihead.onnx'));
  });

  it('runs in onnxruntime-node within the FP16 gates of PyTorch on all 213 samples', async () => {
    expect(stored.reduce((sum, batch) => sum + batch.texts.length, 0)).toBe(213);
    for (const task of TASKS) {
      const parity = (await parityOf(join(bundle, `${task}_fp16.onnx`), stored, { [task]: 'logits' }))[task]!;
      expect(parity.maxAbsDiff).toBeLessThanOrEqual(FP16_MAX_ABS);
      expect(parity.maxAbsDiff).toBeGreaterThan(0); // really computed in float16
      expect(parity.agreement).toBeGreaterThanOrEqual(FP16_TOP1);
    }
    const multihead = await parityOf(
      join(bundle, 'multihead_fp16.onnx'),
      stored,
      Object.fromEntries(TASKS.map((task) => [task, `${task}_logits`])),
    );
    for (const task of TASKS) expect(multihead[task]!.maxAbsDiff).toBeLessThanOrEqual(FP16_MAX_ABS);
  });

  it('verify passes, refuses a changed byte (exit 2) and fails a damaged FP16 head on its gate (exit 3)', async () => {
    const ok = await runCli(['verify', bundle]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ {2}topic fp16: .* pass maxAbsDiff <= 0\.0100; pass top1Agreement >= 0\.9990$/m);

    const altered = join(root, 'altered');
    cpSync(bundle, altered, { recursive: true });
    const bytes = readFileSync(join(altered, 'topic_fp16.onnx'));
    bytes[bytes.length - 64] ^= 0xff;
    writeFileSync(join(altered, 'topic_fp16.onnx'), bytes);
    const refused = await runCli(['verify', altered]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/topic_fp16\.onnx was altered/);

    // negate the topic head's float16 weight in topic_fp16.onnx only: its logits change, nothing else does
    const damaged = join(root, 'damaged');
    cpSync(bundle, damaged, { recursive: true });
    const model = decodeModel(readFileSync(join(damaged, 'topic_fp16.onnx')));
    const head = model.graph!.node!.find((node) => node.output!.includes('logits_fp16'))!;
    const weight = model.graph!.initializer!.find((tensor) => tensor.name === head.input![1])!;
    expect(weight.data_type).toBe(DataType.FLOAT16);
    const raw = Uint8Array.from(weight.raw_data!);
    for (let index = 1; index < raw.length; index += 2) raw[index]! ^= 0x80;
    weight.raw_data = raw;
    writeFileSync(join(damaged, 'topic_fp16.onnx'), encodeModel(model));
    rechecksum(damaged, 'topic_fp16.onnx');
    const failed = await runCli(['verify', damaged]);
    expect(failed.exitCode).toBe(3);
    expect(failed.stderr).toMatch(/task "topic": fp16 maxAbsDiff = .*, limit <= 0\.0100/);
    expect(failed.stderr).not.toMatch(/multihead-fp16|task "(sentiment|spam)"/);
  });

  it('predict --variant fp16 runs the FP16 graphs and gives the FP32 labels', async () => {
    const texts = ['I love this product!', 'Where is my refund?', 'ok', '🔥🔥'];
    const fp16 = await runCli(['predict', bundle, ...texts, '--variant', 'fp16', '--json']);
    const fp32 = await runCli(['predict', bundle, ...texts, '--variant', 'fp32', '--json']);
    expect(fp16.exitCode, fp16.stderr).toBe(0);
    expect(fp16.stderr).not.toMatch(/using FP32/);
    const labels = (stdout: string) =>
      stdout
        .trim()
        .split('\n')
        .map((line) =>
          Object.values((JSON.parse(line) as { predictions: Record<string, { label: string }> }).predictions).map(
            (p) => p.label,
          ),
        );
    expect(labels(fp16.stdout)).toEqual(labels(fp32.stdout));
    const loaded = await loadBundle(bundle, { variant: 'fp16' });
    try {
      await loaded.predict(texts);
      expect(loaded.openGraphs()).toEqual([join(bundle, 'multihead_fp16.onnx')]);
    } finally {
      await loaded.close();
    }
  });

  it('with --external-data, streams the float16 weights into <task>_fp16_weights.bin', async () => {
    const external = join(root, 'external');
    const run = await runCli([
      fixturePath('tiny-mean-gelu'),
      '-o',
      external,
      '--fp16',
      '--quantize',
      'none',
      '--external-data',
      '--tasks',
      'spam',
      '--no-latency',
      '--samples-limit',
      '40',
      '--no-progress',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(external, 'manifest.json'), 'utf8')));
    expect(manifest.tasks[0]).toMatchObject({
      fp16: 'spam_fp16.onnx',
      fp16Weights: 'spam_fp16_weights.bin',
      weights: 'spam_weights.bin',
    });
    expect(statSync(join(external, 'spam_fp16_weights.bin')).size).toBeLessThan(
      statSync(join(external, 'spam_weights.bin')).size * 0.55,
    );
    await expectFloat16Graph(join(external, 'spam_fp16.onnx'), join(external, 'spam.onnx'));
    expect((await runCli(['verify', external])).exitCode).toBe(0);
  });
});

describe('--fp16 on minilm-3task (the real all-MiniLM-L6-v2 encoder)', () => {
  const root = scratchDir('rfe-fp16-minilm-');
  const out = join(root, 'bundle');
  let run: Awaited<ReturnType<typeof runCli>>;
  let dir: string;

  beforeAll(async () => {
    run = await runCli([
      fixturePath('minilm-3task'),
      '-o',
      out,
      '--fp16',
      '--quantize',
      'none',
      '--no-latency',
      '--no-progress',
    ]);
    // exit 3 is the honest outcome where PyTorch's own top-2 logits are closer than float16 can tell apart (see below)
    expect([0, 3], run.stderr).toContain(run.exitCode);
    dir = run.exitCode === 0 ? out : `${out}.unverified`;
  }, 10 * 60_000);

  it('writes float16 weights with float32 outputs, about half the FP32 size', async () => {
    for (const task of TASKS) await expectFloat16Graph(join(dir, `${task}_fp16.onnx`), join(dir, `${task}.onnx`));
    await expectFloat16Graph(join(dir, 'multihead_fp16.onnx'), join(dir, 'multihead.onnx'));
  });

  it('stays within 1e-2 of PyTorch in onnxruntime-node; any top-1 flip is a near-tie below float16 precision', async () => {
    const stored = batches(dir);
    const parity = await parityOf(
      join(dir, 'multihead_fp16.onnx'),
      stored,
      Object.fromEntries(TASKS.map((task) => [task, `${task}_logits`])),
    );
    const report = parityReportSchema.parse(JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8')));
    for (const task of TASKS) {
      const { maxAbsDiff, agreement, flips } = parity[task]!;
      expect(maxAbsDiff).toBeLessThanOrEqual(FP16_MAX_ABS);
      expect(maxAbsDiff).toBeGreaterThan(1e-5); // not FP32 in disguise
      // a flip only where PyTorch's two best logits are closer than twice the text's own error
      for (const flip of flips) expect(flip.gap).toBeLessThan(2 * flip.diff);
      const gates = report.tasks.find((t) => t.task === task)!.gates;
      expect(gates.find((g) => g.comparison === 'fp16' && g.metric === 'maxAbsDiff')!.passed).toBe(true);
      expect(gates.find((g) => g.comparison === 'fp32')!.passed).toBe(true);
      // the report's top-1 gate is what we measure here, and it decides the exit code
      expect(gates.find((g) => g.comparison === 'multihead-fp16' && g.metric === 'top1Agreement')!.value).toBeCloseTo(
        agreement,
        6,
      );
      process.stderr.write(
        `[fp16] minilm-3task ${task}: max abs diff ${maxAbsDiff.toExponential(2)}, top-1 ${(agreement * 100).toFixed(2)}%, flips at PyTorch gaps ${flips.map((f) => f.gap.toExponential(1)).join(', ') || '-'}\n`,
      );
    }
    const failing = report.tasks.flatMap((t) =>
      t.gates.filter((g) => !g.passed).map((g) => `${g.comparison}.${g.metric}`),
    );
    expect(run.exitCode).toBe(failing.length === 0 ? 0 : 3);
    expect(failing.every((gate) => gate.endsWith('fp16.top1Agreement'))).toBe(true);
  });

  it("is at least as close to PyTorch as ORT's own float16 converter (onnxruntime.transformers.float16, keep_io_types)", async () => {
    const theirs = join(root, 'ort_fp16.onnx');
    const script = `import onnx\nfrom onnxruntime.transformers.float16 import convert_float_to_float16 as convert\nonnx.save(convert(onnx.load(${JSON.stringify(join(dir, 'multihead.onnx'))}), keep_io_types=True), ${JSON.stringify(theirs)})`;
    await execa(await bridgePython(), ['-c', script], { env: { PYTHONWARNINGS: 'ignore' } });
    const stored = batches(dir);
    const outputs = Object.fromEntries(TASKS.map((task) => [task, `${task}_logits`]));
    const ours = await parityOf(join(dir, 'multihead_fp16.onnx'), stored, outputs);
    const ort16 = await parityOf(theirs, stored, outputs);
    for (const task of TASKS) {
      expect(ours[task]!.maxAbsDiff).toBeLessThanOrEqual(ort16[task]!.maxAbsDiff);
      expect(ours[task]!.agreement).toBeGreaterThanOrEqual(ort16[task]!.agreement);
      process.stderr.write(
        `[fp16] ${task}: ours ${ours[task]!.maxAbsDiff.toExponential(2)} vs ORT's converter ${ort16[task]!.maxAbsDiff.toExponential(2)}; top-1 ${(ours[task]!.agreement * 100).toFixed(2)}% vs ${(ort16[task]!.agreement * 100).toFixed(2)}%\n`,
      );
    }
  });
});
