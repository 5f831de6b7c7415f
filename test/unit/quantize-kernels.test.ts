import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floatSource } from '../../src/quantize/float-source.js';
import {
  computeScaleZeroPoint,
  fullRange,
  qRange,
  quantizeRun,
  quantizeValue,
  type QuantType,
} from '../../src/quantize/math.js';
import { KernelWorkspace } from '../../src/quantize/kernel-workspace.js';
import { splitWeight } from '../../src/quantize/operators/matmul-weight-residual.js';
import { quantizeWeight, type WeightParams } from '../../src/quantize/weight.js';
import { DataType } from '../../src/onnx/tensor.js';
import { scratchDir } from '../helpers/cli.js';

/** Deterministic values: random normals, exact ties of the rounding (k + 0.5) * scale, and values far out of range. */
function testValues(count: number, seed: number, scale: number): Float32Array {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Float32Array.from({ length: count }, (_, index) => {
    const pick = random();
    if (pick < 0.2) return (Math.floor(random() * 300) - 150 + 0.5) * scale;
    if (pick < 0.25) return (random() - 0.5) * 1000 * scale;
    return (random() - 0.5) * 200 * scale * Math.sin(index + 1);
  });
}

function scalarQuantize(values: Float32Array, scale: number, zeroPoint: number, type: QuantType): Uint8Array {
  const [low, high] = fullRange(type);
  const out = new Uint8Array(values.length);
  quantizeRun(values, 0, values.length, scale, zeroPoint, low, high, out, 0);
  return out;
}

describe('SIMD kernels match the scalar reference bit for bit', () => {
  const workspace = new KernelWorkspace(1024);
  const scale = Math.fround(0.0123);

  it.each([
    ['int8', 0],
    ['uint8', 131],
  ] as const)('%s values: ties to even, clipping, odd lengths, in and out of kernel memory', (type, zeroPoint) => {
    const [low, high] = fullRange(type);
    for (const length of [0, 5, 16, 17, 1000, 1024, 3001]) {
      const values = testValues(length, length + 7, scale);
      const expected = scalarQuantize(values, scale, zeroPoint, type);
      const out = new Uint8Array(length);
      workspace.quantizeValues(values, scale, zeroPoint, type, out);
      expect(Buffer.compare(out, expected), `length ${length}`).toBe(0);
      if (length <= workspace.chunkElements) {
        // in place: values in a read slot, output in a write slot
        const slot = workspace.readSlots[1].subarray(0, length);
        slot.set(values);
        const target = workspace.writeSlot(length);
        workspace.quantizeValues(slot, scale, zeroPoint, type, target);
        expect(Buffer.compare(target, expected), `in place, length ${length}`).toBe(0);
      }
    }
    // the tie values really are ties, and they round to even
    expect(quantizeValue(Math.fround(2.5 * scale), scale, 0, low, high)).toBe(2);
  });

  it('per-column quantization matches per-element scalar quantization', () => {
    for (const type of ['int8', 'uint8'] as const) {
      const columns = 12;
      const rows = testValues(columns * 150, 3, scale);
      const scales = Float32Array.from({ length: columns }, (_, c) => Math.fround(scale * (1 + c / 7)));
      const zeroPoints = Float32Array.from({ length: columns }, (_, c) => (type === 'uint8' ? 100 + c : 0));
      const out = new Uint8Array(rows.length);
      workspace.quantizeColumns(rows, scales, zeroPoints, type, out);
      const [low, high] = fullRange(type);
      const expected = new Uint8Array(rows.length);
      for (let index = 0; index < rows.length; index += 1) {
        const c = index % columns;
        quantizeRun(rows, index, index + 1, scales[c]!, zeroPoints[c]!, low, high, expected, index);
      }
      expect(Buffer.compare(out, expected), type).toBe(0);
    }
  });

  it('finds minimum and maximum; a NaN anywhere, in the vector part or the tail, makes both NaN', () => {
    const values = testValues(1037, 11, scale);
    const extremes = { min: Infinity, max: -Infinity };
    workspace.updateExtremes(values, extremes);
    expect(extremes).toEqual({
      min: values.reduce((a, b) => Math.min(a, b)),
      max: values.reduce((a, b) => Math.max(a, b)),
    });
    for (const position of [0, 15, 500, 1036]) {
      const poisoned = values.slice();
      poisoned[position] = NaN;
      const result = { min: Infinity, max: -Infinity };
      workspace.updateExtremes(poisoned, result);
      expect(Number.isNaN(result.min) && Number.isNaN(result.max), `NaN at ${position}`).toBe(true);
    }
    const infinite = values.slice();
    infinite[40] = -Infinity;
    const result = { min: Infinity, max: -Infinity };
    workspace.updateExtremes(infinite, result);
    expect(result.min).toBe(-Infinity);

    const columns = 8;
    const rows = testValues(columns * 33, 5, scale);
    const mins = new Float32Array(columns).fill(Infinity);
    const maxs = new Float32Array(columns).fill(-Infinity);
    workspace.updateColumnExtremes(rows, mins, maxs);
    for (let c = 0; c < columns; c += 1) {
      const column = rows.filter((_, index) => index % columns === c);
      expect([mins[c], maxs[c]]).toEqual([Math.min(...column), Math.max(...column)]);
    }
  });
});

describe('quantizeWeight streams chunks through the kernels like the reference', () => {
  const dir = scratchDir('rfe-kernels-');

  /** A float32 initializer stored as external data, read in chunks of `workspace.chunkElements`. */
  function externalSource(values: Float32Array, dims: number[]) {
    const file = join(dir, `w${dims.join('x')}.bin`);
    writeFileSync(file, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    const tensor = { name: 'w', dims, data_type: DataType.FLOAT };
    return floatSource(
      tensor,
      new Map([[tensor, { tensor: 'w', file, location: 'w.bin', offset: 0, length: values.byteLength }]]),
      'model.onnx',
    );
  }

  function reference(values: Float32Array, dims: number[], params: WeightParams) {
    const axis = params.channelAxis === undefined ? undefined : (params.channelAxis + dims.length) % dims.length;
    const channels = axis === undefined ? 1 : dims[axis]!;
    const inner = axis === undefined ? values.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const channelOf = (index: number) => (axis === undefined ? 0 : Math.floor(index / inner) % channels);
    const [qmin, qmax] = qRange(params.type, params.reduceRange, params.symmetric);
    const [low, high] = fullRange(params.type);
    const params2 = Array.from({ length: channels }, (_, c) => {
      const own = values.filter((_, index) => channelOf(index) === c);
      return computeScaleZeroPoint(Math.min(...own), Math.max(...own), qmin, qmax, params.symmetric);
    });
    const out = new Uint8Array(values.length);
    for (let index = 0; index < values.length; index += 1) {
      const { scale, zeroPoint } = params2[channelOf(index)]!;
      quantizeRun(values, index, index + 1, scale, zeroPoint, low, high, out, index);
    }
    return { scales: params2.map((p) => p.scale), zeroPoints: params2.map((p) => p.zeroPoint), out };
  }

  const cases: Array<[string, number[], WeightParams]> = [
    ['per tensor int8', [70, 45], { type: 'int8', symmetric: true, reduceRange: false }],
    ['per tensor uint8', [70, 45], { type: 'uint8', symmetric: false, reduceRange: false }],
    // 12 columns: chunks of 1000 split rows, so the first and last rows of a chunk are partial
    [
      'per channel, last axis, column kernels',
      [90, 12],
      { type: 'int8', symmetric: true, reduceRange: false, channelAxis: -1 },
    ],
    [
      'per channel, last axis, 6 columns (runs)',
      [90, 6],
      { type: 'uint8', symmetric: false, reduceRange: true, channelAxis: 1 },
    ],
    ['per channel, first axis', [30, 77], { type: 'int8', symmetric: true, reduceRange: false, channelAxis: 0 }],
  ];

  it.each(cases)('%s', async (_label, dims, params) => {
    const values = testValues(
      dims.reduce((a, b) => a * b, 1),
      dims[0]! * 31 + dims[1]!,
      0.01,
    );
    const expected = reference(values, dims, params);
    const workspace = new KernelWorkspace(1000);
    const weight = await quantizeWeight(externalSource(values, dims), params, 'model.onnx', workspace);
    expect(weight.scales).toEqual(expected.scales);
    expect(weight.zeroPoints).toEqual(expected.zeroPoints);
    const out = new Uint8Array(values.length);
    let offset = 0;
    for await (const chunk of weight.data()) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    expect(offset).toBe(values.length);
    expect(Buffer.compare(out, expected.out)).toBe(0);
  });

  it('refuses a non-finite value in a later chunk, naming its element', async () => {
    const values = testValues(5000, 9, 0.01);
    values[3210] = Infinity;
    const workspace = new KernelWorkspace(1000);
    await expect(
      quantizeWeight(
        externalSource(values, [50, 100]),
        { type: 'int8', symmetric: true, reduceRange: false, channelAxis: -1 },
        'model.onnx',
        workspace,
      ),
    ).rejects.toThrow(/tensor "w": contains NaN or Inf at element 3210/);
  });
});

describe('splitWeight (weight-only-10/12): the SIMD kernel matches the scalar loop bit for bit', () => {
  const workspace = new KernelWorkspace(1024);
  it.each([2, 4] as const)(
    '%i residual bits: ties, clipping, zero columns, NaN, infinities, several pieces',
    (bits) => {
      for (const [k, n] of [
        [3, 4],
        [7, 8],
        [300, 12],
        [64, 384],
      ] as const) {
        const values = testValues(k * n, k * 31 + n, 0.004);
        // specials: a zero column (scale 1), NaN, infinities, -0, denormals, exact residual ties
        for (let row = 0; row < k; row += 1) values[row * n + 1] = 0;
        values[2] = NaN;
        values[n + 2] = Infinity;
        values[2 * n + 3] = -Infinity;
        values[3] = -0;
        values[n + 3] = 1e-42;
        values[(k - 1) * n] = Math.fround(Math.fround(0.4 / 127) * 3.25);
        const simd = splitWeight(values, k, n, bits, workspace);
        const scalar = splitWeight(values, k, n, bits);
        for (const key of ['main', 'residual', 'scales', 'residualScales'] as const) {
          expect(
            Buffer.compare(Buffer.from(simd[key].buffer), Buffer.from(scalar[key].buffer)),
            `${k}x${n} ${key}`,
          ).toBe(0);
        }
        // a real split: weights rebuilt within the residual's error, s / 2^(bits+1), where finite
        const perByte = 8 / bits;
        const count = (k * n) / perByte;
        let checked = 0;
        for (let index = 0; index < k * n; index += 1) {
          const column = index % n;
          if (!Number.isFinite(values[index]!) || !Number.isFinite(simd.scales[column]!)) continue;
          const q = (simd.main[index]! << 24) >> 24;
          const level = (simd.residual[index % count]! >> (bits * Math.floor(index / count))) & (2 ** bits - 1);
          const rebuilt = q * simd.scales[column]! + (level - (2 ** bits - 1) / 2) * simd.residualScales[column]!;
          expect(Math.abs(rebuilt - values[index]!)).toBeLessThanOrEqual(simd.scales[column]! / 2 ** (bits + 1) + 1e-6);
          checked += 1;
        }
        expect(checked).toBeGreaterThan(k * n - 3 * k);
      }
    },
  );
});
