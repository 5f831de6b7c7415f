import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/bridge/npy.js';
import { LogitsComparison } from '../../src/metrics/logits.js';
import { defaultGates, evaluateGates } from '../../src/verify/gates.js';

function npy(descr: string, shape: number[], body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(body, 10 + header.length);
  return out;
}

describe('npy', () => {
  it('reads float32 and int64 arrays with their shapes', () => {
    const floats = new Float32Array([1.5, -2, 3, 4, 5, 6]);
    const parsed = parseNpy(npy('<f4', [2, 3], new Uint8Array(floats.buffer)));
    expect(parsed.shape).toEqual([2, 3]);
    expect(Array.from(parsed.data as Float32Array)).toEqual([1.5, -2, 3, 4, 5, 6]);
    const ints = new BigInt64Array([1n, 2n, 9007199254740993n]);
    const parsedInts = parseNpy(npy('<i8', [3], new Uint8Array(ints.buffer)));
    expect(parsedInts.data[2]).toBe(9007199254740993n);
  });
  it('refuses truncated data and other dtypes', () => {
    expect(() => parseNpy(npy('<f4', [2, 3], new Uint8Array(8)))).toThrow(/expected 6 float32/);
    expect(() => parseNpy(npy('<f2', [1], new Uint8Array(2)))).toThrow(/unsupported dtype/);
    expect(() => parseNpy(new Uint8Array([1, 2, 3]))).toThrow(/not a .npy/);
  });
});

describe('logits comparison', () => {
  it('computes max/mean diff, agreement, cosine and the worst example', () => {
    const comparison = new LogitsComparison(2);
    comparison.add(
      { rows: 2, labels: 2, data: new Float32Array([1, 0, 0, 1]) },
      { rows: 2, labels: 2, data: new Float32Array([1, 0.5, 0.25, 0]) },
      ['a', 'b'],
      10,
    );
    const result = comparison.result();
    expect(result.samples).toBe(2);
    expect(result.maxAbsDiff).toBe(1);
    expect(result.meanAbsDiff).toBeCloseTo((0 + 0.5 + 0.25 + 1) / 4, 6);
    expect(result.top1Agreement).toBe(0.5);
    expect(result.worst[0]).toMatchObject({ index: 11, text: 'b', reference: 1, candidate: 0 });
    expect(result.minCosine).toBeCloseTo(0, 6);
  });
  it('counts NaN/Inf and fails the gate on them', () => {
    const comparison = new LogitsComparison();
    comparison.add(
      { rows: 1, labels: 2, data: new Float32Array([1, 2]) },
      { rows: 1, labels: 2, data: new Float32Array([NaN, 2]) },
      ['x'],
      0,
    );
    const result = comparison.result();
    expect(result.nonFinite).toBe(1);
    const [gate] = evaluateGates(defaultGates(1e-4), { fp32: result });
    expect(gate!.passed).toBe(false);
  });
  it('passes and fails the FP32 gate at its limit', () => {
    const make = (diff: number) => {
      const comparison = new LogitsComparison();
      comparison.add(
        { rows: 1, labels: 1, data: new Float32Array([0]) },
        { rows: 1, labels: 1, data: new Float32Array([diff]) },
        ['x'],
        0,
      );
      return comparison.result();
    };
    expect(evaluateGates(defaultGates(1e-4), { fp32: make(5e-5) })[0]!.passed).toBe(true);
    expect(evaluateGates(defaultGates(1e-4), { fp32: make(2e-4) })[0]!.passed).toBe(false);
  });
  it('refuses batches of different shapes', () => {
    const comparison = new LogitsComparison();
    expect(() =>
      comparison.add(
        { rows: 1, labels: 2, data: new Float32Array(2) },
        { rows: 1, labels: 3, data: new Float32Array(3) },
        ['x'],
        0,
      ),
    ).toThrow(/shapes differ/);
  });
});

describe('gate overrides', () => {
  it('applies --gate specs globally then per task, and reads a gates file', async () => {
    const { gatesForTask } = await import('../../src/verify/gates.js');
    const { parseGateSpec, gateSpecsFromFile } = await import('../../src/plan/gate-spec.js');
    const specs = [
      parseGateSpec('int8.top1=0.9'),
      parseGateSpec('spam.int8.top1=0.5'),
      parseGateSpec('fp32.max_abs=1e-5'),
    ];
    expect(gatesForTask('spam', 1e-4, 0.99, specs).map((g) => [g.comparison, g.metric, g.op, g.limit])).toEqual([
      ['fp32', 'maxAbsDiff', '<=', 1e-5],
      ['int8', 'top1Agreement', '>=', 0.5],
      ['fp16', 'maxAbsDiff', '<=', 1e-2],
      ['fp16', 'top1Agreement', '>=', 0.999],
    ]);
    expect(gatesForTask('topic', 1e-4, 0.99, specs)[1]!.limit).toBe(0.9);
    expect(() => parseGateSpec('int8.top1=abc')).toThrow(/expected \[task\.\]/);
    const fromFile = gateSpecsFromFile({ int8: { top1: 0.97 }, tasks: { spam: { fp32: { max_abs: 1e-3 } } } });
    expect(fromFile).toEqual([
      { comparison: 'int8', metric: 'top1Agreement', limit: 0.97 },
      { task: 'spam', comparison: 'fp32', metric: 'maxAbsDiff', limit: 1e-3 },
    ]);
    expect(() => gateSpecsFromFile({ int8: { top5: 0.9 } })).toThrow();
  });
});
