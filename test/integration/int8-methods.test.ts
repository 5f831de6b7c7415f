import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/bridge/client.js';
import { fixturePath } from '../../fixtures/models.mjs';
import { readOnnx, writeOnnx } from '../../src/onnx/model-file.js';
import { quantizableMatMuls } from '../../src/quantize/auto/candidates.js';
import { measureQuantizationErrors } from '../../src/quantize/auto/error-probe.js';
import { collectLogits } from '../../src/quantize/auto/agreement.js';
import { chooseInt8 } from '../../src/quantize/auto/search.js';
import { int8Note } from '../../src/report/int8-note.js';
import { autoBaseOptions } from '../../src/quantize/policy.js';
import { DEFAULT_QUANTIZE_OPTIONS, type QuantizeOptions } from '../../src/quantize/options.js';
import { IMPLEMENTED_OP_TYPES } from '../../src/quantize/operators/registry.js';
import { writeQuantizedGraph } from '../../src/quantize/quantize-model.js';
import type { TokenizedBatch } from '../../src/onnx/session.js';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';
import { floatTensor, matmulModel, modelOf, valueInfo } from '../helpers/onnx-models.js';

/** numpy.round for the references below. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

const K = 48;
const N = 12;
const weights = Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
const inputs = Array.from({ length: 3 * K }, (_, i) => Math.cos(i * 0.11) * (i % 5 === 0 ? 8 : 1));

async function run(file: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(inputs), [3, K]) });
  await session.release();
  return out.y!.data as Float32Array;
}

function matmul(x: (row: number, k: number) => number, w: (k: number, n: number) => number): number[] {
  const out: number[] = [];
  for (let r = 0; r < 3; r += 1)
    for (let n = 0; n < N; n += 1)
      out.push(Array.from({ length: K }, (_, k) => x(r, k) * w(k, n)).reduce((a, b) => a + b, 0));
  return out;
}

const options = (extra: Partial<QuantizeOptions>): QuantizeOptions => ({
  ...DEFAULT_QUANTIZE_OPTIONS,
  opTypes: ['MatMul'],
  ...extra,
});

describe('INT8 methods: per-token and weight-only against independent references', () => {
  const dir = scratchDir('rfe-methods-');
  let file: string;

  beforeAll(async () => {
    file = join(dir, 'matmul.onnx');
    await writeOnnx(
      file,
      matmulModel(floatTensor('w', weights, [K, N]), floatTensor('b', new Array(N).fill(0), [N]), K, N),
      new Map(),
      { externalData: 'never' },
    );
  });

  it('per-token: one int8 scale per row, per-channel int8 weights, U8S8 MatMulInteger; equals the fake-quantized product', async () => {
    const out = join(dir, 'per-token.onnx');
    const result = await writeQuantizedGraph(await readOnnx(file), out, options({ matmul: 'per-token' }), 'test');
    expect(result.methods).toEqual({ 'per-token': 1 });
    const ops = (await readOnnx(out)).model.graph!.node!.map((n) => n.op_type);
    expect(ops).toEqual(expect.arrayContaining(['ReduceMax', 'Round', 'MatMulInteger']));
    expect(ops).not.toContain('DynamicQuantizeLinear');
    const rowScale = [0, 1, 2].map((r) =>
      Math.fround(Math.max(...inputs.slice(r * K, (r + 1) * K).map(Math.abs)) / 127),
    );
    const columnScale = Array.from({ length: N }, (_, n) =>
      Math.fround(Math.max(...Array.from({ length: K }, (_, k) => Math.abs(weights[k * N + n]!))) / 127),
    );
    const expected = matmul(
      (r, k) =>
        roundHalfEven(
          Math.fround(
            inputs[r * K + k]! * Math.fround(127 / Math.max(...inputs.slice(r * K, (r + 1) * K).map(Math.abs))),
          ),
        ) * rowScale[r]!,
      (k, n) => roundHalfEven(Math.fround(weights[k * N + n]! / columnScale[n]!)) * columnScale[n]!,
    );
    const actual = await run(out);
    expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 3));
  });

  it('weight-only: int8 blocks along K rebuilt by constant ops (folded at load), float MatMul; equals x @ dequantized(w)', async () => {
    const out = join(dir, 'weight-only.onnx');
    const result = await writeQuantizedGraph(
      await readOnnx(file),
      out,
      options({ matmul: 'weight-only', blockSize: 16 }),
      'test',
    );
    expect(result.methods).toEqual({ 'weight-only': 1 });
    const model = (await readOnnx(out)).model;
    expect(model.graph!.node!.map((n) => n.op_type)).toEqual(['Cast', 'Mul', 'Reshape', 'MatMul', 'Add']);
    const stored = model.graph!.initializer!.find((t) => t.data_type === 3)!;
    expect(stored.dims!.map(Number)).toEqual([K / 16, 16, N]);
    const blockScale = (k: number, n: number) => {
      const first = Math.floor(k / 16) * 16;
      return Math.fround(
        Math.max(...Array.from({ length: 16 }, (_, i) => Math.abs(weights[(first + i) * N + n]!))) / 127,
      );
    };
    const expected = matmul(
      (r, k) => inputs[r * K + k]!,
      (k, n) => roundHalfEven(Math.fround(weights[k * N + n]! / blockScale(k, n))) * blockScale(k, n),
    );
    const actual = await run(out);
    expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 3));
    const exact = matmul(
      (r, k) => inputs[r * K + k]!,
      (k, n) => weights[k * N + n]!,
    );
    // 8-bit weights: the result is close to, but not exactly, the float product
    expect(Math.max(...exact.map((v, i) => Math.abs(v - actual[i]!)))).toBeGreaterThan(0);
  });

  for (const [method, bits] of [
    ['weight-only-10', 2],
    ['weight-only-12', 4],
  ] as const) {
    it(`${method}: int8 per column plus a ${bits}-bit residual (1 + ${bits}/8 bytes per weight), folded into a float weight when the session loads`, async () => {
      const out = join(dir, `${method}.onnx`);
      const result = await writeQuantizedGraph(await readOnnx(file), out, options({ matmul: method }), 'test');
      expect(result.methods).toEqual({ [method]: 1 });
      const model = (await readOnnx(out)).model;
      // the integer tensors (scalar uint8 shift amounts of the unpacking aside)
      const stored = model.graph!.initializer!.filter(
        (t) => (t.data_type === 3 || t.data_type === 2) && (t.dims?.length ?? 0) > 0,
      );
      expect(stored.map((t) => t.dims!.map(Number))).toEqual([[K, N], [(K * N * bits) / 8]]);
      // an independent reference: the column step s = absmax / 127; the residual on 2^bits mid-rise levels of s / 2^bits
      const levels = 2 ** bits;
      const columnScale = Array.from({ length: N }, (_, n) =>
        Math.fround(Math.max(...Array.from({ length: K }, (_, k) => Math.abs(Math.fround(weights[k * N + n]!)))) / 127),
      );
      const dequantized = (k: number, n: number) => {
        const s = columnScale[n]!;
        const w = Math.fround(weights[k * N + n]!); // the graph stores float32 weights
        const q = roundHalfEven(Math.fround(w / s));
        const rest = Math.fround(w - Math.fround(q * s));
        const step = Math.fround(s / levels);
        const level = Math.max(0, Math.min(levels - 1, Math.floor(Math.fround(rest / step)) + levels / 2));
        return q * s + (level - (levels - 1) / 2) * step;
      };
      for (let k = 0; k < K; k += 1) {
        for (let n = 0; n < N; n += 1)
          expect(Math.abs(dequantized(k, n) - weights[k * N + n]!)).toBeLessThanOrEqual(
            (columnScale[n]! / levels / 2) * 1.0001,
          );
      }
      const actual = await run(out);
      matmul((r, k) => inputs[r * K + k]!, dequantized).forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 3));
      // onnxruntime folds the rebuild at load: the optimized graph is the float product alone (MatMul + Add fused to Gemm)
      const optimized = join(dir, `${method}.optimized.onnx`);
      await (
        await ort.InferenceSession.create(out, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized })
      ).release();
      expect((await readOnnx(optimized)).model.graph!.node!.map((n) => n.op_type)).toEqual(['Gemm']);
    });
  }

  it('the finer the residual, the closer to the float product: 12-bit < 10-bit < 8-bit blocks', async () => {
    const exact = matmul(
      (r, k) => inputs[r * K + k]!,
      (k, n) => weights[k * N + n]!,
    );
    const error = async (method: 'weight-only' | 'weight-only-10' | 'weight-only-12') => {
      const out = join(dir, `${method}-error.onnx`);
      await writeQuantizedGraph(await readOnnx(file), out, options({ matmul: method }), 'test');
      const actual = await run(out);
      return Math.max(...exact.map((v, i) => Math.abs(v - actual[i]!)));
    };
    const [eight, ten, twelve] = [
      await error('weight-only'),
      await error('weight-only-10'),
      await error('weight-only-12'),
    ];
    expect(ten).toBeLessThan(eight);
    expect(twelve).toBeLessThan(ten / 2);
  });

  it('gatherFloatShare: tables holding at most that share of the weights stay float; 0 (the default) quantizes every table', async () => {
    // a word table of 400 x 8 and a position table of 4 x 8 (32 of 3,232 weights, 1%), summed as in an embedding layer
    const word = floatTensor(
      'word',
      Array.from({ length: 400 * 8 }, (_, i) => Math.sin(i)),
      [400, 8],
    );
    const position = floatTensor(
      'position',
      Array.from({ length: 4 * 8 }, (_, i) => Math.cos(i)),
      [4, 8],
    );
    const ids = { name: 'ids', type: { tensor_type: { elem_type: 7, shape: { dim: [{ dim_value: 4 }] } } } };
    const file = join(dir, 'tables.onnx');
    await writeOnnx(
      file,
      modelOf({
        name: 'tables',
        node: [
          { op_type: 'Gather', input: ['word', 'ids'], output: ['w'], name: 'word_gather' },
          { op_type: 'Gather', input: ['position', 'ids'], output: ['p'], name: 'position_gather' },
          { op_type: 'Add', input: ['w', 'p'], output: ['y'], name: 'sum' },
        ],
        initializer: [word, position],
        input: [ids],
        output: [valueInfo('y', [4, 8])],
      }),
      new Map(),
      { externalData: 'never' },
    );
    const floatTables = async (share: number) => {
      const out = join(dir, `tables-${share}.onnx`);
      await writeQuantizedGraph(
        await readOnnx(file),
        out,
        { ...DEFAULT_QUANTIZE_OPTIONS, opTypes: ['Gather'], gatherFloatShare: share },
        'test',
      );
      return (await readOnnx(out)).model
        .graph!.initializer!.filter((t) => t.data_type === 1 && (t.dims ?? []).length === 2)
        .map((t) => t.name);
    };
    expect(await floatTables(0)).toEqual([]);
    expect(await floatTables(0.01)).toEqual(['position']);
    expect(await floatTables(0.001)).toEqual([]);
  });

  it('the registry lists what is implemented; unknown options are refused by the schema', () => {
    expect([...IMPLEMENTED_OP_TYPES].sort()).toEqual(['Gather', 'MatMul']);
  });
});

describe('INT8 methods on a real exported model (tiny RapidFit, all MatMuls)', () => {
  const dir = scratchDir('rfe-methods-real-');
  let client: BridgeClient;
  let fp32: string;
  let batches: TokenizedBatch[];

  beforeAll(async () => {
    client = await BridgeClient.start({ python: await bridgePython() });
    const exported = await client.request<{ files: Record<string, { file: string }> }>('export', {
      model_dir: fixturePath('tiny-mean-gelu'),
      tasks: ['topic'],
      out_dir: join(dir, 'export'),
      mode: 'per-task',
    });
    fp32 = Object.values(exported.files)[0]!.file;
    const ids = Array.from({ length: 4 * 20 }, (_, i) => BigInt(1000 + ((i * 131) % 9000)));
    batches = [
      {
        inputIds: { dtype: 'int64', shape: [4, 20], data: BigInt64Array.from(ids) },
        attentionMask: { dtype: 'int64', shape: [4, 20], data: new BigInt64Array(80).fill(1n) },
      },
    ];
  }, 5 * 60_000);
  afterAll(async () => client?.close());

  it('mixed precision: per node methods are applied by name and counted', async () => {
    const source = await readOnnx(fp32);
    const names = quantizableMatMuls(source.model).map((c) => c.name);
    expect(names.length).toBeGreaterThan(8);
    const nodeMethods = { [names[0]!]: 'weight-only' as const, [names[1]!]: 'float' as const };
    const result = await writeQuantizedGraph(
      source,
      join(dir, 'mixed.onnx'),
      { ...DEFAULT_QUANTIZE_OPTIONS, matmul: 'per-token', nodeMethods },
      'test',
    );
    expect(result.methods).toEqual({ 'per-token': names.length - 2, 'weight-only': 1 });
  });

  it('the error probe measures every quantizable MatMul; weight-only 8-bit errs less than per-tensor dynamic', async () => {
    const source = await readOnnx(fp32);
    const median = (values: Iterable<number>) => [...values].sort((a, b) => a - b)[Math.floor([...values].length / 2)]!;
    const outputs = { topic: source.model.graph!.output![0]!.name! };
    const probed = await measureQuantizationErrors(source, 'dynamic', DEFAULT_QUANTIZE_OPTIONS, batches, dir, outputs);
    const dynamic = probed.errors;
    const weightOnly = (await measureQuantizationErrors(source, 'weight-only', DEFAULT_QUANTIZE_OPTIONS, batches, dir))
      .errors;
    // the probe keeps the FP32 network unchanged: its own outputs are the FP32 graph's, bit for bit
    const fp32Logits = (await collectLogits(fp32, outputs, batches)).topic!;
    expect(probed.logits!.topic!.map((batch) => [...batch.data])).toEqual(fp32Logits.map((batch) => [...batch.data]));
    expect([...dynamic.keys()].sort()).toEqual(
      quantizableMatMuls(source.model)
        .map((c) => c.name)
        .sort(),
    );
    for (const value of dynamic.values()) expect(value).toBeGreaterThan(0);
    for (const value of dynamic.values()) expect(value).toBeLessThan(0.5);
    expect(median(weightOnly.values())).toBeLessThan(median(dynamic.values()));
  });

  it('auto, when no trial reaches the gate: after the fastest, the most precise is tried, the ones between are not, and it is the candidate', async () => {
    const source = await readOnnx(fp32);
    const outputs = { topic: source.model.graph!.output![0]!.name! };
    // a reference no graph agrees with: every row's top-1 moved to the next label
    const truth = (await collectLogits(fp32, outputs, batches)).topic!;
    const moved = truth.map((batch) => {
      const data = new Float32Array(batch.data.length);
      for (let row = 0; row < batch.rows; row += 1)
        for (let c = 0; c < batch.labels; c += 1)
          data[row * batch.labels + ((c + 1) % batch.labels)] = batch.data[row * batch.labels + c]!;
      return { ...batch, data };
    });
    const choice = await chooseInt8({
      fp32: source,
      outputs,
      gates: { topic: 0.99 },
      batches,
      reference: { topic: moved },
      options: autoBaseOptions(DEFAULT_QUANTIZE_OPTIONS),
      workDir: dir,
      budget: 16,
      maxSizeShare: 0.3,
      speed: { p50: 16, p95: 32, batchSize: 8, maxLength: 64 },
    });
    expect(choice.candidates).toEqual([]);
    expect(choice.chosen.passed).toBe(false);
    // every MatMul dynamic, then every MatMul at higher precision; it misses, so the mix and per-token
    // (less precise on every MatMul) are not tried, though the budget allows 14 more
    expect(choice.trials.map((t) => [t.base, t.fallbackNodes, t.passed])).toEqual([
      ['dynamic', 0, false],
      ['dynamic', choice.matmulCount, false],
    ]);
    expect(Object.keys(choice.chosen.nodeMethods)).toHaveLength(choice.matmulCount);
    expect(choice.outcome).toBe('none');
    expect(choice.speed).toBeUndefined();
    expect(int8Note(choice, 1.5)).toBe(
      'INT8: no candidate reached the INT8 gate on the calibration split (2 trial(s), budget 16); wrote the most precise one tried (every MatMul at higher precision), which the judged split decides',
    );
  });

  it('quantize --int8 auto without calibration texts: exit 2, saying which methods need no texts', async () => {
    const run = await runCli(['quantize', fp32, '-o', join(dir, 'auto.onnx'), '--int8', 'auto']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/--int8 auto needs calibration texts/);
    expect(run.stderr).toMatch(/dynamic, per-token, weight-only/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('quantize --samples: an empty file or a non-UTF-8 line exits 2 naming the file (and the line)', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n\n');
    const tokenizer = join(fixturePath('tiny-mean-gelu'), 'encoder');
    const first = await runCli([
      'quantize',
      fp32,
      '-o',
      join(dir, 'a.onnx'),
      '--samples',
      empty,
      '--tokenizer',
      tokenizer,
    ]);
    expect(first.exitCode).toBe(2);
    expect(first.stderr).toContain(empty);
    const broken = join(dir, 'broken.txt');
    writeFileSync(
      broken,
      Buffer.concat([Buffer.from('fine\nalso fine\n'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]),
    );
    const second = await runCli([
      'quantize',
      fp32,
      '-o',
      join(dir, 'b.onnx'),
      '--samples',
      broken,
      '--tokenizer',
      tokenizer,
    ]);
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain(broken);
    expect(second.stderr).toMatch(/line 3/);
  });
});
