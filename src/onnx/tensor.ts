import type { TensorProto } from './proto.js';
import { toNumber } from './proto.js';

/** onnx.TensorProto.DataType values this tool reads or writes. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

const ELEMENT_SIZE: Record<number, number> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  16: 2,
  17: 1,
  18: 1,
  19: 1,
  20: 1,
};

export const EXTERNAL = 1;

function elementSize(dataType: number | undefined): number | undefined {
  return ELEMENT_SIZE[dataType ?? 0];
}

export function elementCount(tensor: TensorProto): number {
  return (tensor.dims ?? []).reduce<number>((product, dim) => product * toNumber(dim), 1);
}

/** Bytes the tensor's values take in raw form, or undefined for strings and packed 4-bit types. */
export function expectedByteLength(tensor: TensorProto): number | undefined {
  const size = elementSize(tensor.data_type);
  return size === undefined ? undefined : size * elementCount(tensor);
}

export function isExternal(tensor: TensorProto): boolean {
  return tensor.data_location === EXTERNAL;
}

export interface ExternalInfo {
  location: string;
  offset: number;
  /** undefined: to the end of the file. */
  length: number | undefined;
}

/** A decimal integer as onnx writes it; anything else ("", "1e3", "0x10", " 1") is NaN, so that it is refused, not read differently from onnxruntime. */
function decimal(value: string): number {
  return /^[0-9]+$/.test(value) ? Number(value) : NaN;
}

export function externalInfo(tensor: TensorProto): ExternalInfo {
  const entries = new Map((tensor.external_data ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
  const offset = entries.has('offset') ? decimal(entries.get('offset')!) : 0;
  const length = entries.has('length') ? decimal(entries.get('length')!) : undefined;
  return { location: entries.get('location') ?? '', offset, length };
}
