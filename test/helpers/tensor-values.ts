import { readExternalBytes, type ExternalRange } from '../../src/onnx/external-data.js';
import { toNumber, type TensorProto } from '../../src/onnx/proto.js';

/** The values of an initializer as numbers, whichever field holds them (for comparing two quantizers). */
export async function tensorValues(
  tensor: TensorProto,
  range?: ExternalRange,
): Promise<{ type: number; dims: number[]; values: number[] }> {
  const dims = (tensor.dims ?? []).map(toNumber);
  const type = tensor.data_type ?? 0;
  const raw = range
    ? await readExternalBytes(range)
    : tensor.raw_data && tensor.raw_data.length > 0
      ? tensor.raw_data
      : undefined;
  let values: number[];
  if (raw) {
    const copy = new Uint8Array(raw);
    const view = { 1: Float32Array, 2: Uint8Array, 3: Int8Array, 6: Int32Array, 7: BigInt64Array }[
      type as 1 | 2 | 3 | 6 | 7
    ];
    if (!view) throw new Error(`unsupported type ${type}`);
    values = Array.from(new view(copy.buffer) as ArrayLike<number | bigint>, Number);
  } else if (tensor.float_data && tensor.float_data.length > 0) values = tensor.float_data.map(Math.fround);
  else if (tensor.int32_data && tensor.int32_data.length > 0) values = [...tensor.int32_data];
  else if (tensor.int64_data && tensor.int64_data.length > 0) values = tensor.int64_data.map(toNumber);
  else values = [];
  return { type, dims, values };
}
