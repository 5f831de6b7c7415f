/**
 * The quantizer's hot loops as WebAssembly SIMD kernels (4 float32 lanes), bit-identical to the
 * scalar reference in math.ts: f32x4.div is IEEE float32 division, f32x4.nearest rounds half to
 * even (numpy.round), and the saturating narrowing i32 -> i16 -> i8/u8 is the clip to the type's full
 * range. Each call works on whole blocks (16 values, or whole rows of 4k columns); the caller's few
 * leftover values go through the scalar kernel.
 */
import { assembleModule, F32, I32, op, V128, type Bytes, type WasmFunction } from './wasm-assembler.js';
import { quantizeRun } from './math.js';

/** Values per block of the flat kernels. */
const BLOCK = 16;

const whileBelow = (pointer: number, limit: number, body: Bytes[]): Bytes[] => [
  op.block(),
  op.loop(),
  op.localGet(pointer),
  op.localGet(limit),
  op.i32GeU(),
  op.brIf(1),
  ...body,
  op.br(0),
  op.end(),
  op.end(),
];

const advance = (pointer: number, bytes: number): Bytes[] => [op.localGet(pointer), op.i32Const(bytes), op.i32Add(), op.localSet(pointer)];

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
    op.localGet(target),
    op.localGet(column),
    op.i32Add(),
    op.v128Load(0),
    op.localGet(value),
    combine,
    op.v128Store(0),
  ];
  return {
    name: 'minMaxColumns',
    params: [I32, I32, I32, I32, I32],
    locals: [I32, V128],
    body: whileBelow(src, end, [
      op.i32Const(0),
      op.localSet(column),
      ...whileBelow(column, rowBytes, [
        op.localGet(src),
        op.localGet(column),
        op.i32Add(),
        op.v128Load(0),
        op.localSet(value),
        ...update(mins, op.f32x4Min()),
        ...update(maxs, op.f32x4Max()),
        ...advance(column, 16),
      ]),
      op.localGet(src),
      op.localGet(rowBytes),
      op.i32Add(),
      op.localSet(src),
    ]),
  };
}

/** The per-lane formula on the stack's v128: trunc(nearest(value / scale) + zeroPoint). */
const quantizeLanes = (scale: Bytes[], zeroPoint: Bytes[]): Bytes[] => [...scale, op.f32x4Div(), op.f32x4Nearest(), ...zeroPoint, op.f32x4Add(), op.i32x4TruncSatF32x4S()];

const narrowToBytes = (signed: boolean): Bytes => (signed ? op.i8x16NarrowI16x8S() : op.i8x16NarrowI16x8U());

/** quantize(src, end, dst, scale, zeroPoint): 16 values to 16 bytes per step. */
function quantizeFunction(signed: boolean): WasmFunction {
  const [src, end, dst, scale, zeroPoint, scales, zeroPoints] = [0, 1, 2, 3, 4, 5, 6];
  const lanes = (offset: number): Bytes[] => [op.localGet(src), op.v128Load(offset), ...quantizeLanes([op.localGet(scales)], [op.localGet(zeroPoints)])];
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

/** quantizeColumns(src, end, rowBytes, dst, scales, zeroPoints): per-column scale and zero point. */
function quantizeColumnsFunction(signed: boolean): WasmFunction {
  const [src, end, rowBytes, dst, scales, zeroPoints, column, value] = [0, 1, 2, 3, 4, 5, 6, 7];
  const at = (base: number): Bytes[] => [op.localGet(base), op.localGet(column), op.i32Add(), op.v128Load(0)];
  return {
    name: signed ? 'quantizeColumnsInt8' : 'quantizeColumnsUint8',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, V128],
    body: whileBelow(src, end, [
      op.i32Const(0),
      op.localSet(column),
      ...whileBelow(column, rowBytes, [
        op.localGet(dst),
        ...at(src),
        ...quantizeLanes(at(scales), at(zeroPoints)),
        op.localTee(value),
        op.localGet(value),
        op.i16x8NarrowI32x4S(),
        op.localTee(value),
        op.localGet(value),
        narrowToBytes(signed),
        op.v128Store32Lane(0),
        ...advance(dst, 4),
        ...advance(column, 16),
      ]),
      op.localGet(src),
      op.localGet(rowBytes),
      op.i32Add(),
      op.localSet(src),
    ]),
  };
}

interface KernelExports {
  memory: WebAssembly.Memory;
  minMax(src: number, end: number, acc: number): void;
  minMaxColumns(src: number, end: number, rowBytes: number, mins: number, maxs: number): void;
  quantizeInt8(src: number, end: number, dst: number, scale: number, zeroPoint: number): void;
  quantizeUint8(src: number, end: number, dst: number, scale: number, zeroPoint: number): void;
  quantizeColumnsInt8(src: number, end: number, rowBytes: number, dst: number, scales: number, zeroPoints: number): void;
  quantizeColumnsUint8(src: number, end: number, rowBytes: number, dst: number, scales: number, zeroPoints: number): void;
}

const PAGE = 65536;
/** Channels up to this count use the column kernels (their scales, zero points and extremes live in wasm memory). */
export const MAX_COLUMNS = 65536;

let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(
    assembleModule(
      [minMaxFunction(), minMaxColumnsFunction(), quantizeFunction(true), quantizeFunction(false), quantizeColumnsFunction(true), quantizeColumnsFunction(false)],
      1,
    ),
  );
  return compiled;
}

/** Running minimum and maximum of a tensor; NaN once a NaN was seen. */
export interface Extremes {
  min: number;
  max: number;
}

/**
 * One quantization's kernel memory, laid out once and never grown (views stay valid):
 *   acc | 4 column arrays | scratch in (chunk floats) | scratch out | 2 read slots | 2 write slots
 * Values already in a read slot and outputs into a write slot are used in place; anything else is
 * copied through the scratch areas. Not shared between concurrent quantizations.
 */
export class KernelWorkspace {
  private readonly kernels: KernelExports;
  private readonly acc: Float32Array;
  private readonly nanMask: Uint32Array;
  private readonly columnArrays: Float32Array[];
  private readonly scratchIn: Float32Array;
  private readonly scratchOut: Uint8Array;
  /** Two chunk buffers for a reader that reads ahead: chunk k goes to readSlots[k % 2]. */
  readonly readSlots: [Float32Array, Float32Array];
  private readonly writeSlots: [Uint8Array, Uint8Array];
  private nextWrite = 0;

  constructor(readonly chunkElements: number) {
    const sizes = [64, ...Array<number>(4).fill(MAX_COLUMNS * 4), chunkElements * 4, chunkElements, chunkElements * 4, chunkElements * 4, chunkElements, chunkElements];
    const offsets: number[] = [];
    let total = 0;
    for (const size of sizes) {
      offsets.push(total);
      total += Math.ceil(size / 64) * 64;
    }
    this.kernels = new WebAssembly.Instance(kernelModule()).exports as unknown as KernelExports;
    this.kernels.memory.grow(Math.ceil(total / PAGE));
    const buffer = this.kernels.memory.buffer;
    const floats = (index: number, count: number) => new Float32Array(buffer, offsets[index]!, count);
    const bytes = (index: number, count: number) => new Uint8Array(buffer, offsets[index]!, count);
    this.acc = floats(0, 8);
    this.nanMask = new Uint32Array(buffer, 32, 4);
    this.columnArrays = [1, 2, 3, 4].map((index) => floats(index, MAX_COLUMNS));
    this.scratchIn = floats(5, chunkElements);
    this.scratchOut = bytes(6, chunkElements);
    this.readSlots = [floats(7, chunkElements), floats(8, chunkElements)];
    this.writeSlots = [bytes(9, chunkElements), bytes(10, chunkElements)];
  }

  /**
   * An output buffer inside kernel memory. Write slots alternate, so a chunk stays valid until the
   * chunk after next is requested: consumers must be done with (e.g. have flushed) each chunk by then.
   */
  writeSlot(length: number): Uint8Array {
    const slot = this.writeSlots[this.nextWrite]!;
    this.nextWrite = 1 - this.nextWrite;
    return length <= slot.length ? slot.subarray(0, length) : new Uint8Array(length);
  }

  private inMemory(view: ArrayBufferView): boolean {
    return view.buffer === this.kernels.memory.buffer;
  }

  /** Runs `kernel` over values in pieces of at most `pieceElements`, copying values in when they are not in kernel memory. */
  private eachPiece(values: Float32Array, pieceElements: number, kernel: (address: number, start: number, end: number) => void): void {
    if (this.inMemory(values)) {
      kernel(values.byteOffset, 0, values.length);
      return;
    }
    for (let start = 0; start < values.length; start += pieceElements) {
      const end = Math.min(values.length, start + pieceElements);
      this.scratchIn.set(values.subarray(start, end));
      kernel(this.scratchIn.byteOffset, start, end);
    }
  }

  /** Folds values into extremes; a NaN anywhere makes min and max NaN. */
  updateExtremes(values: Float32Array, extremes: Extremes): void {
    const whole = values.length - (values.length % BLOCK);
    if (whole > 0) {
      this.acc.fill(extremes.min, 0, 4).fill(extremes.max, 4, 8);
      this.nanMask.fill(0);
      const piece = this.scratchIn.length - (this.scratchIn.length % BLOCK);
      this.eachPiece(values.subarray(0, whole), piece, (address, start, end) => this.kernels.minMax(address, address + (end - start) * 4, this.acc.byteOffset));
      const acc = this.acc;
      const nan = this.nanMask.some((mask) => mask !== 0);
      extremes.min = nan ? NaN : Math.min(acc[0]!, acc[1]!, acc[2]!, acc[3]!);
      extremes.max = nan ? NaN : Math.max(acc[4]!, acc[5]!, acc[6]!, acc[7]!);
    }
    for (let index = whole; index < values.length; index += 1) {
      extremes.min = Math.min(extremes.min, values[index]!);
      extremes.max = Math.max(extremes.max, values[index]!);
    }
  }

  /** Whether rows of `columns` values can go to the column kernels. */
  static suitsColumns(columns: number): boolean {
    return columns % 4 === 0 && columns <= MAX_COLUMNS;
  }

  private rowPiece(columns: number): number {
    if (!KernelWorkspace.suitsColumns(columns) || columns > this.chunkElements) throw new Error(`column kernels: ${columns} columns are not supported`);
    return Math.floor(this.chunkElements / columns) * columns;
  }

  /** Folds whole rows of `mins.length` columns into per-column minima and maxima (NaN propagates). */
  updateColumnExtremes(rows: Float32Array, mins: Float32Array, maxs: Float32Array): void {
    const columns = mins.length;
    const piece = this.rowPiece(columns);
    if (rows.length % columns !== 0) throw new Error(`updateColumnExtremes: ${rows.length} values are not whole rows of ${columns}`);
    const [minArea, maxArea] = this.columnArrays as [Float32Array, Float32Array];
    minArea.set(mins);
    maxArea.set(maxs);
    this.eachPiece(rows, piece, (address, start, end) =>
      this.kernels.minMaxColumns(address, address + (end - start) * 4, columns * 4, minArea.byteOffset, maxArea.byteOffset),
    );
    mins.set(minArea.subarray(0, columns));
    maxs.set(maxArea.subarray(0, columns));
  }

  private output(out: Uint8Array, start: number, end: number): { address: number; copy: () => void } {
    if (this.inMemory(out)) return { address: out.byteOffset + start, copy: () => undefined };
    return { address: this.scratchOut.byteOffset, copy: () => out.set(this.scratchOut.subarray(0, end - start), start) };
  }

  /** quantizeRun over all of `values` into `out` (same length) with one scale and zero point. */
  quantizeValues(values: Float32Array, scale: number, zeroPoint: number, low: number, high: number, out: Uint8Array): void {
    const signed = low < 0;
    const fullRange = signed ? low === -128 && high === 127 : low === 0 && high === 255;
    const whole = fullRange ? values.length - (values.length % BLOCK) : 0;
    if (whole > 0) {
      const kernel = signed ? this.kernels.quantizeInt8 : this.kernels.quantizeUint8;
      const piece = this.scratchIn.length - (this.scratchIn.length % BLOCK);
      this.eachPiece(values.subarray(0, whole), piece, (address, start, end) => {
        const target = this.output(out, start, end);
        kernel(address, address + (end - start) * 4, target.address, scale, zeroPoint);
        target.copy();
      });
    }
    quantizeRun(values, whole, values.length, scale, zeroPoint, low, high, out, whole);
  }

  /** Quantizes whole rows with one scale and zero point per column (the channel is the last axis). */
  quantizeColumns(rows: Float32Array, scales: Float32Array, zeroPoints: Float32Array, signed: boolean, out: Uint8Array): void {
    const columns = scales.length;
    const piece = this.rowPiece(columns);
    if (rows.length % columns !== 0) throw new Error(`quantizeColumns: ${rows.length} values are not whole rows of ${columns}`);
    const [, , scaleArea, zeroPointArea] = this.columnArrays as [Float32Array, Float32Array, Float32Array, Float32Array];
    scaleArea.set(scales);
    zeroPointArea.set(zeroPoints);
    const kernel = signed ? this.kernels.quantizeColumnsInt8 : this.kernels.quantizeColumnsUint8;
    this.eachPiece(rows, piece, (address, start, end) => {
      const target = this.output(out, start, end);
      kernel(address, address + (end - start) * 4, columns * 4, target.address, scaleArea.byteOffset, zeroPointArea.byteOffset);
      target.copy();
    });
  }
}
