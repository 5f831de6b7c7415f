/**
 * A minimal WebAssembly binary writer: just enough to build the quantizer's SIMD kernels at start-up
 * without a toolchain or a checked-in binary. Instruction encodings follow the WebAssembly 2.0 spec
 * (core opcodes, 0xfd-prefixed fixed-width SIMD).
 */

export type Bytes = number[];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

function unsignedLeb(value: number): Bytes {
  const out: Bytes = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function signedLeb(value: number): Bytes {
  const out: Bytes = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const simd = (opcode: number, ...immediates: Bytes): Bytes => [0xfd, ...unsignedLeb(opcode), ...immediates];
/** memarg: log2 of the alignment hint, then the constant offset. */
const memarg = (alignLog2: number, offset: number): Bytes => [...unsignedLeb(alignLog2), ...unsignedLeb(offset)];

/** The instructions the kernels use; each returns its encoding. */
export const op = {
  block: (): Bytes => [0x02, 0x40],
  loop: (): Bytes => [0x03, 0x40],
  end: (): Bytes => [0x0b],
  br: (depth: number): Bytes => [0x0c, ...unsignedLeb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...unsignedLeb(depth)],
  localGet: (index: number): Bytes => [0x20, ...unsignedLeb(index)],
  localSet: (index: number): Bytes => [0x21, ...unsignedLeb(index)],
  localTee: (index: number): Bytes => [0x22, ...unsignedLeb(index)],
  i32Const: (value: number): Bytes => [0x41, ...signedLeb(value)],
  f32Const: (value: number): Bytes => [0x43, ...new Uint8Array(new Float32Array([value]).buffer)],
  i32GeU: (): Bytes => [0x4f],
  i32Add: (): Bytes => [0x6a],
  i32ShrU: (): Bytes => [0x76],
  v128Load: (offset = 0): Bytes => simd(0x00, ...memarg(4, offset)),
  v128Store: (offset = 0): Bytes => simd(0x0b, ...memarg(4, offset)),
  v128Store32Lane: (lane: number, offset = 0): Bytes => simd(0x5a, ...memarg(2, offset), lane),
  f32x4Splat: (): Bytes => simd(0x13),
  f32x4Nearest: (): Bytes => simd(0x6a),
  f32x4Floor: (): Bytes => simd(0x68),
  f32x4Add: (): Bytes => simd(0xe4),
  f32x4Sub: (): Bytes => simd(0xe5),
  f32x4Mul: (): Bytes => simd(0xe6),
  f32x4Div: (): Bytes => simd(0xe7),
  f32x4Min: (): Bytes => simd(0xe8),
  f32x4Max: (): Bytes => simd(0xe9),
  /** pseudo-minimum b < a ? b : a (one instruction; NaN handling is the caller's) */
  f32x4Pmin: (): Bytes => simd(0xea),
  f32x4Pmax: (): Bytes => simd(0xeb),
  f32x4Ne: (): Bytes => simd(0x42),
  v128Or: (): Bytes => simd(0x50),
  i32x4TruncSatF32x4S: (): Bytes => simd(0xf8),
  i16x8NarrowI32x4S: (): Bytes => simd(0x85),
  i8x16NarrowI16x8S: (): Bytes => simd(0x65),
  i8x16NarrowI16x8U: (): Bytes => simd(0x66),
};

export interface WasmFunction {
  name: string;
  params: number[];
  /** Extra locals, by type, numbered after the parameters. */
  locals: number[];
  body: Bytes[];
}

function vector(items: Bytes[]): Bytes {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, content: Bytes): Bytes {
  return [id, ...unsignedLeb(content.length), ...content];
}

const utf8 = (text: string): Bytes => {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
};

/**
 * A module exporting `functions` (no results; parameters and locals as given) and one memory named
 * "memory" of `pages` 64 KiB pages (growable).
 */
export function assembleModule(functions: WasmFunction[], pages: number): Uint8Array {
  const types = functions.map((fn) => [0x60, ...vector(fn.params.map((t) => [t])), ...vector([])]);
  const bodies = functions.map((fn) => {
    const locals = vector(fn.locals.map((type) => [...unsignedLeb(1), type]));
    const code = [...locals, ...fn.body.flat(), ...op.end()];
    return [...unsignedLeb(code.length), ...code];
  });
  const exports = [
    ...functions.map((fn, index) => [...utf8(fn.name), 0x00, ...unsignedLeb(index)]),
    [...utf8('memory'), 0x02, ...unsignedLeb(0)],
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, index) => unsignedLeb(index)))),
    ...section(5, vector([[0x00, ...unsignedLeb(pages)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}
