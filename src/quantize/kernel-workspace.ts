/** Feeds the SIMD kernels: kernel memory layout, copying in and out, leftovers through the scalar kernel. */
import { fullRange, quantizeRun, type QuantType } from './math.js';
import { BLOCK, kernelModule, type KernelExports } from './simd-kernels.js';

const PAGE = 65536;
/** Channels up to this count use the column kernels (their scales, zero points and extremes live in wasm memory). */
const MAX_COLUMNS = 65536;

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
  private readonly scratchOut2: Uint8Array;
  /** Values per piece for the flat kernels when copying through the scratch area (whole blocks). */
  private readonly flatPiece: number;
  /** Two chunk buffers for a reader that reads ahead: chunk k goes to readSlots[k % 2]. */
  readonly readSlots: [Float32Array, Float32Array];
  private readonly writeSlots: [Uint8Array, Uint8Array];
  private nextWrite = 0;

  constructor(readonly chunkElements: number) {
    const sizes = [
      64,
      ...Array<number>(4).fill(MAX_COLUMNS * 4),
      chunkElements * 4,
      chunkElements,
      chunkElements * 4,
      chunkElements * 4,
      chunkElements,
      chunkElements,
      chunkElements,
    ];
    const offsets: number[] = [];
    let total = 0;
    for (const size of sizes) {
      offsets.push(total);
      total += Math.ceil(size / 64) * 64;
    }
    this.kernels = new WebAssembly.Instance(kernelModule()).exports as unknown as KernelExports;
    this.kernels.memory.grow(Math.ceil(total / PAGE));
    const buffer = this.kernels.memory.buffer;
    const floats = (index: number, count: number) => new Float32Array(buffer, offsets[index], count);
    const bytes = (index: number, count: number) => new Uint8Array(buffer, offsets[index], count);
    this.acc = floats(0, 8);
    this.nanMask = new Uint32Array(buffer, 32, 4);
    this.columnArrays = [1, 2, 3, 4].map((index) => floats(index, MAX_COLUMNS));
    this.scratchIn = floats(5, chunkElements);
    this.scratchOut = bytes(6, chunkElements);
    this.flatPiece = chunkElements - (chunkElements % BLOCK);
    this.readSlots = [floats(7, chunkElements), floats(8, chunkElements)];
    this.writeSlots = [bytes(9, chunkElements), bytes(10, chunkElements)];
    this.scratchOut2 = bytes(11, chunkElements);
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
  private eachPiece(
    values: Float32Array,
    pieceElements: number,
    kernel: (address: number, start: number, end: number) => void,
  ): void {
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
      this.eachPiece(values.subarray(0, whole), this.flatPiece, (address, start, end) =>
        this.kernels.minMax(address, address + (end - start) * 4, this.acc.byteOffset),
      );
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
    if (!KernelWorkspace.suitsColumns(columns) || columns > this.chunkElements)
      throw new Error(`column kernels: ${columns} columns are not supported`);
    return Math.floor(this.chunkElements / columns) * columns;
  }

  /** Folds whole rows of `mins.length` columns into per-column minima and maxima (NaN propagates). */
  updateColumnExtremes(rows: Float32Array, mins: Float32Array, maxs: Float32Array): void {
    const columns = mins.length;
    const piece = this.rowPiece(columns);
    if (rows.length % columns !== 0)
      throw new Error(`updateColumnExtremes: ${rows.length} values are not whole rows of ${columns}`);
    const [minArea, maxArea] = this.columnArrays as [Float32Array, Float32Array];
    minArea.set(mins);
    maxArea.set(maxs);
    this.eachPiece(rows, piece, (address, start, end) =>
      this.kernels.minMaxColumns(
        address,
        address + (end - start) * 4,
        columns * 4,
        minArea.byteOffset,
        maxArea.byteOffset,
      ),
    );
    mins.set(minArea.subarray(0, columns));
    maxs.set(maxArea.subarray(0, columns));
  }

  private output(out: Uint8Array, start: number, end: number): { address: number; copy: () => void } {
    if (this.inMemory(out)) return { address: out.byteOffset + start, copy: () => undefined };
    return {
      address: this.scratchOut.byteOffset,
      copy: () => out.set(this.scratchOut.subarray(0, end - start), start),
    };
  }

  /** quantizeRun over all of `values` into `out` (same length) with one scale and zero point. */
  quantizeValues(values: Float32Array, scale: number, zeroPoint: number, type: QuantType, out: Uint8Array): void {
    const whole = values.length - (values.length % BLOCK);
    if (whole > 0) {
      const kernel = type === 'int8' ? this.kernels.quantizeInt8 : this.kernels.quantizeUint8;
      this.eachPiece(values.subarray(0, whole), this.flatPiece, (address, start, end) => {
        const target = this.output(out, start, end);
        kernel(address, address + (end - start) * 4, target.address, scale, zeroPoint);
        target.copy();
      });
    }
    const [low, high] = fullRange(type);
    quantizeRun(values, whole, values.length, scale, zeroPoint, low, high, out, whole);
  }

  /** A column kernel's two per-column inputs copied into kernel memory, and its piece of whole rows. */
  private perColumn(kernel: string, rows: Float32Array, scales: Float32Array, second: Float32Array) {
    const columns = scales.length;
    const piece = this.rowPiece(columns);
    if (rows.length % columns !== 0)
      throw new Error(`${kernel}: ${rows.length} values are not whole rows of ${columns}`);
    const [, , scaleArea, secondArea] = this.columnArrays as [Float32Array, Float32Array, Float32Array, Float32Array];
    scaleArea.set(scales);
    secondArea.set(second);
    return { columns, piece, scaleArea, secondArea };
  }

  /** Quantizes whole rows with one scale and zero point per column (the channel is the last axis). */
  quantizeColumns(
    rows: Float32Array,
    scales: Float32Array,
    zeroPoints: Float32Array,
    type: QuantType,
    out: Uint8Array,
  ): void {
    const {
      columns,
      piece,
      scaleArea,
      secondArea: zeroPointArea,
    } = this.perColumn('quantizeColumns', rows, scales, zeroPoints);
    const kernel = type === 'int8' ? this.kernels.quantizeColumnsInt8 : this.kernels.quantizeColumnsUint8;
    this.eachPiece(rows, piece, (address, start, end) => {
      const target = this.output(out, start, end);
      kernel(
        address,
        address + (end - start) * 4,
        columns * 4,
        target.address,
        scaleArea.byteOffset,
        zeroPointArea.byteOffset,
      );
      target.copy();
    });
  }

  /**
   * Weight-only with a residual (splitWeight), whole rows with one scale and residual scale per column:
   * main = clip(nearest(v / s), -127, 127) as int8, levels = clip(floor((v - main*s) / r) + half, 0, top).
   */
  splitColumns(
    rows: Float32Array,
    scales: Float32Array,
    residualScales: Float32Array,
    half: number,
    top: number,
    main: Uint8Array,
    levels: Uint8Array,
  ): void {
    const {
      columns,
      piece,
      scaleArea,
      secondArea: residualArea,
    } = this.perColumn('splitColumns', rows, scales, residualScales);
    // outputs go through the scratch areas piece by piece, so the input must not be one piece in kernel memory
    this.eachPiece(this.inMemory(rows) ? rows.slice() : rows, piece, (address, start, end) => {
      this.kernels.splitColumns(
        address,
        address + (end - start) * 4,
        columns * 4,
        this.scratchOut.byteOffset,
        this.scratchOut2.byteOffset,
        scaleArea.byteOffset,
        residualArea.byteOffset,
        half,
        top,
      );
      main.set(this.scratchOut.subarray(0, end - start), start);
      levels.set(this.scratchOut2.subarray(0, end - start), start);
    });
  }
}
