/**
 * The arithmetic of ONNX Runtime's quantizer (onnxruntime/quantization/quant_utils.py:
 * get_qmin_qmax_for_qType, compute_scale_zp, quantize_nparray), reproduced so that our int8/uint8
 * weights are bit-identical to quantize_dynamic's.
 */

export type QuantType = 'int8' | 'uint8';

/** onnx TensorProto data types. */
export const ONNX_TYPE: Record<QuantType, number> = { uint8: 2, int8: 3 };

const FULL: Record<QuantType, [number, number]> = { uint8: [0, 255], int8: [-128, 127] };
const SYMMETRIC: Partial<Record<QuantType, [number, number]>> = { int8: [-127, 127] };
const REDUCED: Record<QuantType, [number, number]> = { uint8: [0, 127], int8: [-64, 64] };

/** numpy.finfo(float32).tiny: scales below it are replaced by 1.0 (e.g. all-zero tensors). */
const FLOAT32_TINY = 1.1754943508222875e-38;

export function qRange(type: QuantType, reduceRange: boolean, symmetric: boolean): [number, number] {
  if (reduceRange) return REDUCED[type];
  if (symmetric && SYMMETRIC[type]) return SYMMETRIC[type];
  return FULL[type];
}

/** The clip range of quantize_nparray: always the type's full range. */
export function fullRange(type: QuantType): [number, number] {
  return FULL[type];
}

/** numpy.round: round half to even. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export interface ScaleZeroPoint {
  /** float32 value */
  scale: number;
  zeroPoint: number;
}

/** compute_scale_zp(rmin, rmax, qmin, qmax, symmetric), with rmin/rmax the float32 min and max of the data. */
export function computeScaleZeroPoint(
  dataMin: number,
  dataMax: number,
  qmin: number,
  qmax: number,
  symmetric: boolean,
): ScaleZeroPoint {
  let rmin = Math.min(dataMin, 0);
  let rmax = Math.max(dataMax, 0);
  if (symmetric) {
    const absmax = Math.max(Math.abs(rmin), Math.abs(rmax));
    rmin = -absmax;
    rmax = absmax;
  }
  const scale = (rmax - rmin) / (qmax - qmin);
  if (scale < FLOAT32_TINY) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = symmetric ? roundHalfEven((qmin + qmax) / 2) : roundHalfEven(qmin - rmin / scale);
  return { scale: Math.fround(scale), zeroPoint };
}

/**
 * quantize_nparray over values[start, end): clip(round(float32(x / scale)) + zero_point) in the type's
 * full range, written as bytes (int8 as two's complement, which keeps the store monomorphic and fast).
 */
export function quantizeRun(
  values: Float32Array,
  start: number,
  end: number,
  scale: number,
  zeroPoint: number,
  low: number,
  high: number,
  out: Uint8Array,
  outStart: number,
): void {
  for (let index = start, target = outStart; index < end; index += 1, target += 1) {
    const x = Math.fround(values[index]! / scale);
    // floor(x + 0.5) is exact for float32 x and faster than Math.round in V8; then ties go to even
    let r = Math.floor(x + 0.5);
    if (r - x === 0.5) r -= r & 1;
    r += zeroPoint;
    out[target] = (r < low ? low : r > high ? high : r) & 0xff;
  }
}

/** quantize_nparray for one value (the same kernel as quantizeRun), as a signed or unsigned integer. */
export function quantizeValue(x: number, scale: number, zeroPoint: number, low: number, high: number): number {
  const out = new Uint8Array(1);
  quantizeRun(Float32Array.of(x), 0, 1, scale, zeroPoint, low, high, out, 0);
  return low < 0 ? (out[0]! << 24) >> 24 : out[0]!;
}
