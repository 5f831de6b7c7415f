/**
 * float32 -> float16 bits, round half to even, as onnxconverter-common's `convert_np_to_float16`
 * stores weights: sign and finiteness are kept, so a finite value past float16's range becomes
 * +-65504 (not infinity) and a non-zero value too small for float16 becomes +-2^-24 (not zero).
 * NaN and infinities stay NaN and infinities.
 */
const MAX_FINITE = 0x7bff;
const INFINITY = 0x7c00;
const MIN_SUBNORMAL = 0x0001;

export function halfBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | INFINITY | (mantissa !== 0 ? 0x200 : 0);
  if (exponent === 0 && mantissa === 0) return sign;
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | MAX_FINITE;
  if (e <= 0) {
    // float16 subnormal: the value is (1.mantissa) * 2^(e - 15) = m * 2^-24
    if (e < -10) return sign | MIN_SUBNORMAL;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const middle = 1 << (shift - 1);
    if (rest > middle || (rest === middle && (half & 1) === 1)) half += 1;
    return sign | (half === 0 ? MIN_SUBNORMAL : half);
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | (half >= INFINITY ? MAX_FINITE : half);
}

/** Converts float32 values into float16 bits in `out` (same length). */
export function toHalf(values: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let index = 0; index < bits.length; index += 1) out[index] = halfBits(bits[index]!);
}

/** float16 bits -> number (for tests and checks). */
export function halfToNumber(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
