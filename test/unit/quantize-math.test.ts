import { describe, expect, it } from 'vitest';
import { computeScaleZeroPoint, qRange, quantizeValue, roundHalfEven } from '../../src/quantize/math.js';

describe('quantization arithmetic (onnxruntime quant_utils)', () => {
  it('rounds half to even like numpy.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, 3]);
  });
  it('picks the ranges of get_qmin_qmax_for_qType', () => {
    expect(qRange('int8', false, true)).toEqual([-127, 127]);
    expect(qRange('int8', false, false)).toEqual([-128, 127]);
    expect(qRange('int8', true, true)).toEqual([-64, 64]);
    expect(qRange('uint8', false, false)).toEqual([0, 255]);
    expect(qRange('uint8', true, false)).toEqual([0, 127]);
  });
  it('computes symmetric int8 scale with zero point 0 and a float32 scale', () => {
    const { scale, zeroPoint } = computeScaleZeroPoint(-0.5, 0.25, -127, 127, true);
    expect(zeroPoint).toBe(0);
    expect(scale).toBe(Math.fround(1 / 254));
  });
  it('computes asymmetric uint8 zero point from rmin, including 0 in the range', () => {
    expect(computeScaleZeroPoint(-1, 3, 0, 255, false)).toEqual({ scale: Math.fround(4 / 255), zeroPoint: 64 });
    // all-positive data: rmin becomes 0, zero point 0
    expect(computeScaleZeroPoint(2, 4, 0, 255, false)).toEqual({ scale: Math.fround(4 / 255), zeroPoint: 0 });
  });
  it('uses scale 1 and zero point 0 for all-zero tensors', () => {
    expect(computeScaleZeroPoint(0, 0, -127, 127, true)).toEqual({ scale: 1, zeroPoint: 0 });
    expect(computeScaleZeroPoint(0, 0, 0, 255, false)).toEqual({ scale: 1, zeroPoint: 0 });
  });
  it('quantizes with float32 division, half-to-even rounding and clipping to the full range', () => {
    const scale = Math.fround(0.1);
    expect(quantizeValue(0.25, scale, 0, -128, 127)).toBe(roundHalfEven(Math.fround(0.25 / scale)));
    expect(quantizeValue(1000, scale, 0, -128, 127)).toBe(127);
    expect(quantizeValue(-1000, scale, 10, 0, 255)).toBe(0);
  });
});
