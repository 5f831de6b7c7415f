/**
 * The quantizer's hot loops as WebAssembly SIMD kernels (4 float32 lanes), bit-identical to the
 * scalar reference in math.ts: f32x4.div is IEEE float32 division, f32x4.nearest rounds half to
 * even (numpy.round), and the saturating narrowing i32 -> i16 -> i8/u8 is the clip to the type's full
 * range. Each call works on whole blocks (16 values, or whole rows of 4k columns); KernelWorkspace
 * (kernel-workspace.ts) feeds them and sends the few leftover values through the scalar kernel.
 */
import { advance, atColumn, eachRowColumn, whileBelow } from './simd-loops.js';
import { assembleModule, F32, I32, op, V128, type Bytes, type WasmFunction } from './wasm-assembler.js';

/** Values per block of the flat kernels. */
export const BLOCK = 16;

/**
 * minMax(src, end, acc): acc holds 4 lane minima, 4 lane maxima and a NaN mask, updated in place.
 * The pseudo min/max are one instruction each; NaNs, which they skip, are collected in the mask.
 */
function minMaxFunction(): WasmFunction {
  const [src, end, acc, min, max, nan, value] = [0, 1, 2, 3, 4, 5, 6];
  const lane = (offset: number): Bytes[] => [
    op.localGet(src),
    op.v128Load(offset),
    op.localSet(value),
    op.localGet(min),
    op.localGet(value),
    op.f32x4Pmin(),
    op.localSet(min),
    op.localGet(max),
    op.localGet(value),
    op.f32x4Pmax(),
    op.localSet(max),
    op.localGet(value),
    op.localGet(value),
    op.f32x4Ne(),
    op.localGet(nan),
    op.v128Or(),
    op.localSet(nan),
  ];
  return {
    name: 'minMax',
    params: [I32, I32, I32],
    locals: [V128, V128, V128, V128],
    body: [
      op.localGet(acc),
      op.v128Load(0),
      op.localSet(min),
      op.localGet(acc),
      op.v128Load(16),
      op.localSet(max),
      op.localGet(acc),
      op.v128Load(32),
      op.localSet(nan),
      ...whileBelow(src, end, [...lane(0), ...lane(16), ...lane(32), ...lane(48), ...advance(src, BLOCK * 4)]),
      op.localGet(acc),
      op.localGet(min),
      op.v128Store(0),
      op.localGet(acc),
      op.localGet(max),
      op.v128Store(16),
      op.localGet(acc),
      op.localGet(nan),
      op.v128Store(32),
    ],
  };
}

/** minMaxColumns(src, end, rowBytes, mins, maxs): per-column minima and maxima over whole rows. */
function minMaxColumnsFunction(): WasmFunction {
  const [src, end, rowBytes, mins, maxs, column, value] = [0, 1, 2, 3, 4, 5, 6];
  const update = (target: number, combine: Bytes): Bytes[] => [
    op.localGet(target),
    op.localGet(column),
    op.i32Add(),
    ...atColumn(target, column),
    op.localGet(value),
    combine,
    op.v128Store(0),
  ];
  return {
    name: 'minMaxColumns',
    params: [I32, I32, I32, I32, I32],
    locals: [I32, V128],
    body: eachRowColumn(src, end, rowBytes, column, [
      ...atColumn(src, column),
      op.localSet(value),
      ...update(mins, op.f32x4Min()),
      ...update(maxs, op.f32x4Max()),
    ]),
  };
}

/** The per-lane formula on the stack's v128: trunc(nearest(value / scale) + zeroPoint). */
const quantizeLanes = (scale: Bytes[], zeroPoint: Bytes[]): Bytes[] => [
  ...scale,
  op.f32x4Div(),
  op.f32x4Nearest(),
  ...zeroPoint,
  op.f32x4Add(),
  op.i32x4TruncSatF32x4S(),
];

const narrowToBytes = (signed: boolean): Bytes => (signed ? op.i8x16NarrowI16x8S() : op.i8x16NarrowI16x8U());

/** quantize(src, end, dst, scale, zeroPoint): 16 values to 16 bytes per step. */
function quantizeFunction(signed: boolean): WasmFunction {
  const [src, end, dst, scale, zeroPoint, scales, zeroPoints] = [0, 1, 2, 3, 4, 5, 6];
  const lanes = (offset: number): Bytes[] => [
    op.localGet(src),
    op.v128Load(offset),
    ...quantizeLanes([op.localGet(scales)], [op.localGet(zeroPoints)]),
  ];
  return {
    name: signed ? 'quantizeInt8' : 'quantizeUint8',
    params: [I32, I32, I32, F32, F32],
    locals: [V128, V128],
    body: [
      op.localGet(scale),
      op.f32x4Splat(),
      op.localSet(scales),
      op.localGet(zeroPoint),
      op.f32x4Splat(),
      op.localSet(zeroPoints),
      ...whileBelow(src, end, [
        op.localGet(dst),
        ...lanes(0),
        ...lanes(16),
        op.i16x8NarrowI32x4S(),
        ...lanes(32),
        ...lanes(48),
        op.i16x8NarrowI32x4S(),
        narrowToBytes(signed),
        op.v128Store(0),
        ...advance(src, BLOCK * 4),
        ...advance(dst, BLOCK),
      ]),
    ],
  };
}

/** The 4 lanes of an i32x4 on the stack narrowed (saturating) to 4 bytes and stored at dst; dst advances by 4. */
const storeFourBytes = (dst: number, scratch: number, signed: boolean): Bytes[] => [
  op.localSet(scratch),
  op.localGet(dst),
  op.localGet(scratch),
  op.localGet(scratch),
  op.i16x8NarrowI32x4S(),
  op.localTee(scratch),
  op.localGet(scratch),
  narrowToBytes(signed),
  op.v128Store32Lane(0),
  ...advance(dst, 4),
];

/** quantizeColumns(src, end, rowBytes, dst, scales, zeroPoints): per-column scale and zero point. */
function quantizeColumnsFunction(signed: boolean): WasmFunction {
  const [src, end, rowBytes, dst, scales, zeroPoints, column, value] = [0, 1, 2, 3, 4, 5, 6, 7];
  return {
    name: signed ? 'quantizeColumnsInt8' : 'quantizeColumnsUint8',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, V128],
    body: eachRowColumn(src, end, rowBytes, column, [
      ...atColumn(src, column),
      ...quantizeLanes(atColumn(scales, column), atColumn(zeroPoints, column)),
      ...storeFourBytes(dst, value, signed),
    ]),
  };
}

/**
 * splitColumns(src, end, rowBytes, mainDst, levelDst, scales, residualScales, half, top): weight-only
 * with a residual (operators/matmul-weight-residual.ts), per column: q = clip(nearest(v / s), -127,
 * 127) to mainDst (int8), level = clip(floor((v - q*s) / r) + half, 0, top) to levelDst (uint8).
 */
function splitColumnsFunction(): WasmFunction {
  // zero is a v128 local never set (locals start at zero)
  const [
    src,
    end,
    rowBytes,
    mainDst,
    levelDst,
    scales,
    residualScales,
    half,
    top,
    column,
    value,
    q,
    scratch,
    halves,
    tops,
    low,
    high,
    zero,
  ] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const splat = (from: number | Bytes[], to: number): Bytes[] => [
    ...(typeof from === 'number' ? [op.localGet(from)] : from),
    op.f32x4Splat(),
    op.localSet(to),
  ];
  return {
    name: 'splitColumns',
    params: [I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [I32, V128, V128, V128, V128, V128, V128, V128, V128],
    body: [
      ...splat(half, halves),
      ...splat(top, tops),
      ...splat([op.f32Const(-127)], low),
      ...splat([op.f32Const(127)], high),
      ...eachRowColumn(src, end, rowBytes, column, [
        ...atColumn(src, column),
        op.localTee(value),
        ...atColumn(scales, column),
        op.f32x4Div(),
        op.f32x4Nearest(),
        op.localGet(low),
        op.f32x4Max(),
        op.localGet(high),
        op.f32x4Min(),
        op.localTee(q),
        op.i32x4TruncSatF32x4S(),
        ...storeFourBytes(mainDst, scratch, true),
        op.localGet(value),
        op.localGet(q),
        ...atColumn(scales, column),
        op.f32x4Mul(),
        op.f32x4Sub(),
        ...atColumn(residualScales, column),
        op.f32x4Div(),
        op.f32x4Floor(),
        op.localGet(halves),
        op.f32x4Add(),
        op.localGet(zero),
        op.f32x4Max(),
        op.localGet(tops),
        op.f32x4Min(),
        op.i32x4TruncSatF32x4S(),
        ...storeFourBytes(levelDst, scratch, false),
      ]),
    ],
  };
}

/** WebAssembly exports are plain functions (no `this`), so they are typed as function-valued properties. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  minMax: (src: number, end: number, acc: number) => void;
  minMaxColumns: (src: number, end: number, rowBytes: number, mins: number, maxs: number) => void;
  quantizeInt8: (src: number, end: number, dst: number, scale: number, zeroPoint: number) => void;
  quantizeUint8: (src: number, end: number, dst: number, scale: number, zeroPoint: number) => void;
  quantizeColumnsInt8: (
    src: number,
    end: number,
    rowBytes: number,
    dst: number,
    scales: number,
    zeroPoints: number,
  ) => void;
  quantizeColumnsUint8: (
    src: number,
    end: number,
    rowBytes: number,
    dst: number,
    scales: number,
    zeroPoints: number,
  ) => void;
  splitColumns: (
    src: number,
    end: number,
    rowBytes: number,
    mainDst: number,
    levelDst: number,
    scales: number,
    residualScales: number,
    half: number,
    top: number,
  ) => void;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled kernels (compiled once per process; each workspace instantiates its own memory). */
export function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(
    assembleModule(
      [
        minMaxFunction(),
        minMaxColumnsFunction(),
        quantizeFunction(true),
        quantizeFunction(false),
        quantizeColumnsFunction(true),
        quantizeColumnsFunction(false),
        splitColumnsFunction(),
      ],
      1,
    ),
  );
  return compiled;
}
