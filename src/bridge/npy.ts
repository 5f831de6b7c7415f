import { readFile } from 'node:fs/promises';

export type NpyArray =
  { dtype: 'float32'; shape: number[]; data: Float32Array } | { dtype: 'int64'; shape: number[]; data: BigInt64Array };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Reads the .npy files the bridge writes (little-endian float32 / int64, C order). */
export function parseNpy(bytes: Uint8Array, name = 'array'): NpyArray {
  if (!MAGIC.every((value, index) => bytes[index] === value)) throw new Error(`${name}: not a .npy file`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${name}: bad .npy header`);
  if (fortran === 'True') throw new Error(`${name}: Fortran-ordered arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((product, dim) => product * dim, 1);
  const dataStart = headerStart + headerLength;
  const body = bytes.slice(dataStart); // copy: typed arrays need aligned offsets
  if (descr === '<f4') {
    if (body.byteLength !== count * 4) throw new Error(`${name}: expected ${count} float32 values`);
    return { dtype: 'float32', shape, data: new Float32Array(body.buffer, body.byteOffset, count) };
  }
  if (descr === '<i8') {
    if (body.byteLength !== count * 8) throw new Error(`${name}: expected ${count} int64 values`);
    return { dtype: 'int64', shape, data: new BigInt64Array(body.buffer, body.byteOffset, count) };
  }
  throw new Error(`${name}: unsupported dtype ${descr}`);
}

export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readFile(path), path);
}
