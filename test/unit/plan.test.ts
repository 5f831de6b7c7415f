import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BRIDGE_METHODS, sharedMethodNames } from '../../src/bridge/methods.js';
import { manifestSchema, variantEntry, variantFiles } from '../../src/config/manifest.js';
import { float16Graph } from '../../src/convert/fp16-graph.js';
import { halfBits, halfToNumber } from '../../src/convert/half.js';
import type { GraphProto, TensorProto } from '../../src/onnx/proto.js';
import { DataType } from '../../src/onnx/tensor.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { dynamicAxes, INPUT_NAMES, multiheadOutput, OUTPUT_NAME } from '../../src/plan/model-io.js';
import { comparisonTitle, multiheadFile, VARIANT_PLANS, VARIANTS, variantGraphFile } from '../../src/plan/variants.js';
import { gateSpecsFromFile, parseGateSpec } from '../../src/plan/gate-spec.js';
import { defaultGates, gatesForTask } from '../../src/verify/gates.js';

const bits = (value: number) => new Uint32Array(Float32Array.of(value).buffer)[0]!;

describe('the bundle plan', () => {
  it('has one I/O descriptor, and the Python bridge exports the same names', () => {
    expect(INPUT_NAMES).toEqual(['input_ids', 'attention_mask']);
    expect(dynamicAxes()).toEqual({
      input_ids: { '0': 'batch', '1': 'sequence' },
      attention_mask: { '0': 'batch', '1': 'sequence' },
      logits: { '0': 'batch' },
    });
    const python = readFileSync(join(PACKAGE_ROOT, 'python-bridge', 'src', 'rapidfit_bridge', 'model_io.py'), 'utf8');
    expect(JSON.parse(/^INPUT_NAMES = (\[.*\])$/m.exec(python)![1]!)).toEqual(INPUT_NAMES);
    expect(JSON.parse(/^OUTPUT_NAME = (".*")$/m.exec(python)![1]!)).toBe(OUTPUT_NAME);
    expect(/return f"\{task\}_\{OUTPUT_NAME\}"/.test(python)).toBe(true);
    expect(multiheadOutput('spam')).toBe('spam_logits');
  });

  it('names every variant file from the plan', () => {
    expect(VARIANTS.map((variant) => variantGraphFile('spam', variant))).toEqual([
      'spam.onnx',
      'spam_int8.onnx',
      'spam_fp16.onnx',
    ]);
    expect(VARIANTS.map(multiheadFile)).toEqual(['multihead.onnx', 'multihead_int8.onnx', 'multihead_fp16.onnx']);
    expect(comparisonTitle('fp16')).toBe('FP16 ONNX vs PyTorch');
    expect(comparisonTitle('multihead-fp32')).toBe('multihead.onnx (FP32) vs PyTorch');
    expect(comparisonTitle('multihead-int8-calibration')).toBe(
      'multihead_int8.onnx vs PyTorch, calibration split (tuned on, not gated)',
    );
  });

  it('reads and writes the manifest fields of a variant by its keys', () => {
    const entry = { fp32: 'a.onnx', weights: 'a_weights.bin', fp16: 'a_fp16.onnx', fp16Weights: 'a_fp16_weights.bin' };
    expect(variantFiles(entry, 'fp16')).toEqual({ graph: 'a_fp16.onnx', weights: 'a_fp16_weights.bin' });
    expect(variantFiles(entry, 'int8')).toBeUndefined();
    expect(variantEntry('fp16', { graph: 'a_fp16.onnx' })).toEqual({ fp16: 'a_fp16.onnx' });
    const manifest = {
      schema: 'rapidfit-export/manifest',
      schemaVersion: 1,
      createdAt: '',
      verified: true,
      tool: { name: 't', version: '0' },
      source: { modelDir: '/m', format: 'rapidfit' },
      tasks: [{ name: 'a', config: 'a_config.json', numLabels: 2, ...entry }],
      options: {},
      bridge: { lockSha256: 'x', versions: {} },
      runtime: {},
      files: ['a.onnx', 'a_weights.bin', 'a_config.json'].map((path) => ({ path, sha256: '0'.repeat(64), size: 1 })),
    };
    // a variant file the checksums do not cover is refused
    expect(manifestSchema.safeParse(manifest).error?.issues[0]?.message).toMatch(
      /"a_fp16\.onnx" is not among the manifest's files/,
    );
  });

  it('gives every variant its gates, FP16 included, and parses fp16 gate overrides', () => {
    expect(defaultGates(1e-4, 0.99).map((g) => [g.comparison, g.metric, g.op, g.limit])).toEqual([
      ['fp32', 'maxAbsDiff', '<=', 1e-4],
      ['int8', 'top1Agreement', '>=', 0.99],
      ['fp16', 'maxAbsDiff', '<=', 1e-2],
      ['fp16', 'top1Agreement', '>=', 0.999],
    ]);
    expect(VARIANT_PLANS.fp16.calibrated).toBe(false);
    expect(parseGateSpec('spam.fp16.max_abs=5e-3')).toEqual({
      task: 'spam',
      comparison: 'fp16',
      metric: 'maxAbsDiff',
      limit: 5e-3,
    });
    expect(() => parseGateSpec('bf16.top1=0.9')).toThrow(
      /expected \[task\.\]fp32\|int8\|fp16\.max_abs\|top1\|accuracy_drop=<number>/,
    );
    const specs = gateSpecsFromFile({ fp16: { top1: 0.995 } });
    expect(
      gatesForTask('spam', 1e-4, 0.99, specs).find((g) => g.comparison === 'fp16' && g.metric === 'top1Agreement')!
        .limit,
    ).toBe(0.995);
  });
});

describe('the bridge method map', () => {
  it('has a request and response schema for exactly the methods methods.json shares with Python', () => {
    const shared = sharedMethodNames();
    expect(Object.keys(BRIDGE_METHODS).sort()).toEqual([...shared].sort());
    const handlers = readFileSync(join(PACKAGE_ROOT, 'python-bridge', 'src', 'rapidfit_bridge', 'handlers.py'), 'utf8');
    const table = /^HANDLERS = \{([\s\S]*?)^\}/m.exec(handlers)![1]!;
    expect([...table.matchAll(/^\s+"([a-z_]+)":/gm)].map((m) => m[1]).sort()).toEqual([...shared].sort());
  });

  it('refuses a malformed request or response at the boundary', () => {
    expect(BRIDGE_METHODS.export.params.safeParse({ model_dir: '/m' }).success).toBe(false); // no out_dir
    expect(BRIDGE_METHODS.export.params.safeParse({ model_dir: '/m', out_dir: '/o', mode: 'shared' }).success).toBe(
      true,
    );
    expect(BRIDGE_METHODS.tokenize.result.safeParse({ input_ids: '/a.npy', shape: [1, 2] }).success).toBe(false); // no attention_mask
    expect(BRIDGE_METHODS.check_tokenizer.result.safeParse({ same: 'yes', detail: '' }).success).toBe(false);
  });
});

describe('float32 -> float16 bits', () => {
  it('rounds half to even and keeps sign and finiteness as onnxconverter-common does', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [1e6, 0x7bff],
      [-1e6, 0xfbff],
      [0, 0],
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [2 ** -20, 0x0010],
      [1e-9, 0x0001],
      [-1e-9, 0x8001],
      [-3.4028234663852886e38, 0xfbff],
    ];
    for (const [value, expected] of cases)
      expect(halfBits(bits(value)).toString(16), String(value)).toBe(expected.toString(16));
    expect(halfBits(bits(NaN)) & 0x7c00).toBe(0x7c00);
    expect(halfBits(bits(NaN)) & 0x3ff).not.toBe(0);
  });

  it('is exact on every finite float16 value, and within half a unit in the last place between them', () => {
    for (let half = 0; half < 0x10000; half += 1) {
      if ((half & 0x7c00) === 0x7c00 || half === 0x8000 || half === 0) continue;
      expect(halfBits(bits(halfToNumber(half)))).toBe(half);
    }
    for (const value of [0.3333, 123.456, -7.77e-3, 4.2e-6, 3e4]) {
      const rounded = halfToNumber(halfBits(bits(value)));
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(value))) - 10);
      expect(Math.abs(rounded - value)).toBeLessThanOrEqual(Math.max(ulp, 2 ** -24) / 2);
    }
  });
});

describe('float16Graph', () => {
  const F = DataType.FLOAT;
  const value = (name: string, type: number) => ({ name, type: { tensor_type: { elem_type: type } } });
  const floats = (name: string, values: number[]): TensorProto => ({
    name,
    dims: [values.length],
    data_type: F,
    raw_data: new Uint8Array(Float32Array.from(values).buffer),
  });
  // x (float input) -> MatMul(w) -> LayerNormalization(scale, bias) -> Add(c) -> y (float output)
  const graph: GraphProto = {
    input: [value('x', F)],
    output: [value('y', F)],
    value_info: [value('h', F), value('n', F), value('c', F)],
    initializer: [floats('w', [1, 2, 3, 4]), floats('scale', [1, 1]), floats('bias', [0, 0])],
    node: [
      { op_type: 'MatMul', name: 'mm', input: ['x', 'w'], output: ['h'] },
      { op_type: 'LayerNormalization', name: 'ln', input: ['h', 'scale', 'bias'], output: ['n'] },
      {
        op_type: 'Constant',
        name: 'k',
        input: [],
        output: ['c'],
        attribute: [{ name: 'value', type: 4, t: floats('', [-3.4e38]) }],
      },
      { op_type: 'Add', name: 'add', input: ['n', 'c'], output: ['y'] },
    ],
  };

  it('computes in float16 with float32 at the boundaries and around the kept ops', () => {
    const converted = float16Graph(graph, 'g.onnx');
    expect([...converted.halfInitializers].map((t) => t.name)).toEqual(['w']); // scale and bias are read by LayerNormalization only
    expect(converted.float32Nodes).toEqual({ LayerNormalization: 1 });
    const nodes = converted.graph.node!.map((n) => `${n.op_type}(${n.input!.join(',')})->${n.output!.join(',')}`);
    expect(nodes).toEqual([
      'Cast(x)->x_fp16',
      'MatMul(x_fp16,w)->h',
      'Cast(h)->h_fp32',
      'LayerNormalization(h_fp32,scale,bias)->n_fp32',
      'Cast(n_fp32)->n',
      'Constant()->c',
      'Add(n,c)->y_fp16',
      'Cast(y_fp16)->y',
    ]);
    const constant = converted.graph.node!.find((n) => n.op_type === 'Constant')!.attribute![0]!.t as TensorProto;
    expect(constant.data_type).toBe(DataType.FLOAT16);
    expect(new Uint16Array(Uint8Array.from(constant.raw_data!).buffer)[0]).toBe(0xfbff); // float32's minimum stays finite: -65504
    expect(converted.graph.output).toEqual(graph.output);
  });

  it('refuses a graph whose values have no type (no shape inference)', () => {
    expect(() => float16Graph({ ...graph, value_info: [] }, 'g.onnx')).toThrow(
      /fp16: value "h" \(output of MatMul "mm"\) has no type/,
    );
  });
});
