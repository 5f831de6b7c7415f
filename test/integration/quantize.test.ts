import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/bridge/client.js';
import { fixturePath } from '../../fixtures/models.mjs';
import { readOnnx, writeOnnx } from '../../src/onnx/model-file.js';
import { encodeModel } from '../../src/onnx/proto.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { writeQuantizedGraph } from '../../src/quantize/quantize-model.js';
import { DEFAULT_QUANTIZE_OPTIONS, type QuantizeOptions } from '../../src/quantize/options.js';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';
import { floatTensor, matmulModel, valueInfo } from '../helpers/onnx-models.js';
import { tensorValues } from '../helpers/tensor-values.js';

function int64(rows: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
}

/** A padded batch of token ids (what a tokenizer would give), to run both INT8 graphs on. */
function batch(): Record<string, ort.Tensor> {
  const ids = Array.from({ length: 6 }, (_, r) =>
    Array.from({ length: 24 }, (_, i) => 1000 + ((r * 131 + i * 17) % 9000)),
  );
  const mask = ids.map((row, r) => row.map((_, i) => (i < 24 - r * 3 ? 1 : 0)));
  return { input_ids: int64(ids), attention_mask: int64(mask) };
}

async function logits(file: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const out = await session.run(batch());
  await session.release();
  return out[session.outputNames[0]!]!.data as Float32Array;
}

function cliFlags(options: Partial<QuantizeOptions>): string[] {
  return [
    ...(options.weightType ? ['--weight-type', options.weightType] : []),
    ...(options.perChannel ? ['--per-channel'] : []),
    ...(options.reduceRange ? ['--reduce-range'] : []),
    ...(options.opTypes ? ['--op-types', options.opTypes.join(',')] : []),
    ...(options.excludeNodes ? ['--exclude-nodes', options.excludeNodes.join(',')] : []),
  ];
}

describe("INT8 quantization against ONNX Runtime's quantize_dynamic (oracle)", () => {
  const dir = scratchDir('rfe-quant-');
  let python: string;
  let client: BridgeClient;
  const sources: Record<string, string> = {};

  beforeAll(async () => {
    python = await bridgePython();
    client = await BridgeClient.start({ python });
    for (const [name, fixture, tasks] of [
      ['tiny', 'tiny-mean-gelu', ['topic']],
      ['minilm', 'minilm-3task', ['sentiment']],
    ] as const) {
      const exported = await client.request<{ files: Record<string, { file: string }> }>('export', {
        model_dir: fixturePath(fixture),
        tasks,
        out_dir: join(dir, name),
        mode: 'per-task',
      });
      sources[name] = Object.values(exported.files)[0]!.file;
    }
  }, 5 * 60_000);
  afterAll(async () => client?.close());

  const optionSets: Array<[string, Partial<QuantizeOptions>]> = [
    ['defaults (int8 symmetric, per tensor)', {}],
    ['per channel', { perChannel: true }],
    ['reduce range', { reduceRange: true }],
    ['uint8 weights', { weightType: 'uint8' }],
    ['uint8, per channel, reduce range', { weightType: 'uint8', perChannel: true, reduceRange: true }],
    ['MatMul only', { opTypes: ['MatMul'] }],
    ['a node excluded', { excludeNodes: ['/encoder/encoder/layer.0/attention/self/query/MatMul'] }],
  ];

  /** ORT quantizes the inline FP32 file; ours the same, or (externalInput) a copy with all weights as external data. */
  async function compare(model: string, label: string, options: Partial<QuantizeOptions>, externalInput = false) {
    const stem = `${model}-${label.replace(/\W+/g, '_')}`;
    const ours = join(dir, `${stem}-ours.onnx`);
    const theirs = join(dir, `${stem}-ort.onnx`);
    const full = { ...DEFAULT_QUANTIZE_OPTIONS, ...options };
    let input = sources[model]!;
    if (externalInput) {
      const inline = await readOnnx(input);
      input = join(dir, `${stem}-external.onnx`);
      expect(
        (await writeOnnx(input, inline.model, inline.external, { externalData: 'always', threshold: 0 }))
          .externalTensors,
      ).toBeGreaterThan(100);
    }
    await writeQuantizedGraph(await readOnnx(input), ours, full, 'test');
    await execa(python, [
      join(PACKAGE_ROOT, 'fixtures', 'ort_quantize.py'),
      sources[model]!,
      theirs,
      ...cliFlags(options),
    ]);
    const a = await readOnnx(ours);
    const b = await readOnnx(theirs);
    const mine = new Map(a.model.graph!.initializer!.map((t) => [t.name, t]));
    const ort = new Map(b.model.graph!.initializer!.map((t) => [t.name, t]));
    expect([...mine.keys()].sort()).toEqual([...ort.keys()].sort());
    let quantized = 0;
    for (const [name, tensor] of mine) {
      const x = await tensorValues(tensor, a.external.get(tensor));
      const y = await tensorValues(ort.get(name)!, b.external.get(ort.get(name)!));
      expect({ name, type: x.type, dims: x.dims }).toEqual({ name, type: y.type, dims: y.dims });
      expect(x.values.length).toBe(y.values.length);
      const differing = x.values.findIndex((value, index) => value !== y.values[index]);
      expect(differing, `${name} differs at ${differing}`).toBe(-1);
      if (name!.endsWith('_quantized')) quantized += 1;
    }
    expect(quantized).toBeGreaterThan(0);
    // same nodes (ORT sorts them topologically; both are valid orders)
    const nodes = (m: typeof a) =>
      m.model.graph!.node!.map((n) => `${n.op_type}|${n.input!.join(',')}|${n.output!.join(',')}`).sort();
    expect(nodes(a)).toEqual(nodes(b));
    const [la, lb] = [await logits(ours), await logits(theirs)];
    const diff = Math.max(...Array.from(la, (value, index) => Math.abs(value - lb[index]!)));
    expect(diff).toBeLessThanOrEqual(1e-6);
    return { a, b };
  }

  it.each(optionSets)(
    'tiny model, %s: bit-identical initializers, same nodes, logits within 1e-6',
    async (label, options) => {
      await compare('tiny', label, options);
    },
  );

  it('MiniLM: bit-identical, same nodes, logits within 1e-6, INT8 file at most 27% of FP32', async () => {
    const { a } = await compare('minilm', 'defaults', {});
    const fp32 = readFileSync(sources.minilm!).length;
    expect(a.protobufBytes / fp32).toBeLessThanOrEqual(0.27);
  }, 120_000);

  it.each([
    ['defaults', {}],
    ['uint8 per channel', { weightType: 'uint8', perChannel: true }],
  ] as const)(
    'MiniLM with external data (streamed through kernel memory), %s: bit-identical to ORT on the inline file',
    async (label, options) => {
      const { a } = await compare('minilm', `external ${label}`, options, true);
      expect(a.external.size).toBeGreaterThan(0);
    },
    120_000,
  );
});

describe('quantizer structure and bad input', () => {
  it('quantizes a weight shared by two MatMuls once, and their shared activation once', async () => {
    const dir = scratchDir('rfe-quant-shared-');
    const k = 8;
    const w = floatTensor(
      'w',
      Array.from({ length: k * k }, (_, i) => Math.sin(i)),
      [k, k],
    );
    const model = matmulModel(w, floatTensor('b', new Array(k).fill(0.5)), k, k);
    model.graph!.node!.push({ op_type: 'MatMul', input: ['x', 'w'], output: ['y2'], name: 'mm2' });
    model.graph!.output!.push(valueInfo('y2', ['batch', k]));
    writeFileSync(join(dir, 'shared.onnx'), encodeModel(model));
    await writeQuantizedGraph(
      await readOnnx(join(dir, 'shared.onnx')),
      join(dir, 'shared_int8.onnx'),
      DEFAULT_QUANTIZE_OPTIONS,
      'test',
    );
    const out = await readOnnx(join(dir, 'shared_int8.onnx'));
    const names = out.model.graph!.initializer!.map((t) => t.name);
    expect(names.filter((n) => n === 'w_quantized')).toHaveLength(1);
    expect(names).not.toContain('w');
    const ops = out.model.graph!.node!.map((n) => n.op_type);
    expect(ops.filter((op) => op === 'MatMulInteger')).toHaveLength(2);
    expect(ops.filter((op) => op === 'DynamicQuantizeLinear')).toHaveLength(1);
  });

  function tinyModel(dir: string, mutate: (m: ReturnType<typeof matmulModel>) => void): string {
    const model = matmulModel(
      floatTensor(
        'w',
        Array.from({ length: 16 }, (_, i) => i / 10),
        [4, 4],
      ),
      floatTensor('b', [1, 2, 3, 4]),
      4,
      4,
    );
    mutate(model);
    const file = join(dir, 'm.onnx');
    writeFileSync(file, encodeModel(model));
    return file;
  }

  it.each([
    [
      'a graph with nothing to quantize',
      (m: ReturnType<typeof matmulModel>) => {
        m.graph!.node = [{ op_type: 'Add', input: ['x', 'b'], output: ['y'], name: 'add' }];
      },
      /nothing to quantize/,
    ],
    [
      'an already quantized graph',
      (m: ReturnType<typeof matmulModel>) => {
        m.graph!.node!.unshift({
          op_type: 'DynamicQuantizeLinear',
          input: ['x'],
          output: ['xq', 'xs', 'xz'],
          name: 'dq',
        });
      },
      /already quantized \(it has DynamicQuantizeLinear nodes\)/,
    ],
    [
      'a weight whose raw_data has the wrong length',
      (m: ReturnType<typeof matmulModel>) => {
        m.graph!.initializer![0]!.raw_data = new Uint8Array(12);
      },
      /tensor "w": malformed data: 12 bytes stored, shape \[4, 4\] of float32 needs 64/,
    ],
    [
      'a float16 weight',
      (m: ReturnType<typeof matmulModel>) => {
        m.graph!.initializer![0] = { name: 'w', dims: [4, 4], data_type: 10, raw_data: new Uint8Array(32) };
      },
      /tensor "w": data type 10 is not float32; only float32 weights are quantized/,
    ],
  ] as const)('%s: exit 2, clear message, no output file', async (_label, mutate, message) => {
    const dir = scratchDir('rfe-quant-bad-');
    const file = tinyModel(dir, mutate);
    const run = await runCli(['quantize', file, '-o', join(dir, 'out.onnx')]);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/ {4}at /);
    expect(readdirNames(dir)).toEqual(['m.onnx']);
  });
});

function readdirNames(dir: string): string[] {
  return readdirSync(dir).sort();
}

describe('non-finite weights', () => {
  it('refuses a weight with NaN or Inf, naming the tensor and the element', async () => {
    const dir = scratchDir('rfe-quant-nan-');
    const values = Array.from({ length: 16 }, (_, i) => i / 10);
    values[5] = NaN;
    writeFileSync(
      join(dir, 'm.onnx'),
      encodeModel(matmulModel(floatTensor('w', values, [4, 4]), floatTensor('b', [1, 2, 3, 4]), 4, 4)),
    );
    const run = await runCli(['quantize', join(dir, 'm.onnx')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/tensor "w": contains NaN or Inf at element 5/);
  });
});
