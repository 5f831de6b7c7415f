// Loop and addressing building blocks of the SIMD kernels (simd-kernels.ts), as WebAssembly byte code.
import { op, type Bytes } from './wasm-assembler.js';

export const whileBelow = (pointer: number, limit: number, body: Bytes[]): Bytes[] => [
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

export const advance = (pointer: number, bytes: number): Bytes[] => [
  op.localGet(pointer),
  op.i32Const(bytes),
  op.i32Add(),
  op.localSet(pointer),
];

/** For each row of rowBytes in [src, end): for each 16-byte column step (column = byte offset in the row): body. */
export const eachRowColumn = (src: number, end: number, rowBytes: number, column: number, body: Bytes[]): Bytes[] =>
  whileBelow(src, end, [
    op.i32Const(0),
    op.localSet(column),
    ...whileBelow(column, rowBytes, [...body, ...advance(column, 16)]),
    op.localGet(src),
    op.localGet(rowBytes),
    op.i32Add(),
    op.localSet(src),
  ]);

/** The v128 at base + column. */
export const atColumn = (base: number, column: number): Bytes[] => [
  op.localGet(base),
  op.localGet(column),
  op.i32Add(),
  op.v128Load(0),
];
