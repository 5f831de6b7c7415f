import { open } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { ExternalRange } from '../onnx/external-data.js';
import { toNumber, type TensorProto } from '../onnx/proto.js';
import { DataType, elementCount } from '../onnx/tensor.js';

/** Chunks of 4 Mi elements (16 MiB of float32): the quantizer's memory does not grow with tensor size. */
export const CHUNK_ELEMENTS = 4 * 2 ** 20;

export interface FloatChunk {
  /** Index of values[0] in the flattened tensor. */
  offset: number;
  values: Float32Array;
}

/** The float32 values of one initializer, readable in chunks, from memory or from its external data. */
export interface FloatSource {
  name: string;
  dims: number[];
  count: number;
  chunks(options?: ChunkOptions): AsyncIterable<FloatChunk>;
}

interface ChunkOptions {
  maxElements?: number;
  /**
   * Two buffers that external (or unaligned inline) data is read into, alternately (chunk k into
   * slots[k % 2]); a chunk stays valid until the chunk after it is requested. Without them every such
   * chunk gets a new buffer.
   */
  slots?: readonly [Float32Array, Float32Array];
}

/** Float view of bytes[start * 4, (start + count) * 4): zero-copy when aligned, else copied (into `slot` if given). */
function floatsOf(bytes: Uint8Array, start: number, count: number, slot?: Float32Array): Float32Array {
  if ((bytes.byteOffset + start * 4) % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset + start * 4, count);
  const target = slot ? slot.subarray(0, count) : new Float32Array(count);
  new Uint8Array(target.buffer, target.byteOffset, count * 4).set(bytes.subarray(start * 4, (start + count) * 4));
  return target;
}

/**
 * Validates a float32 initializer (type, raw_data length, finiteness is checked while reading) and
 * returns a chunked reader. Malformed tensors are refused with exit 2 and the tensor's name.
 */
export function floatSource(tensor: TensorProto, external: Map<TensorProto, ExternalRange>, file: string): FloatSource {
  const name = tensor.name ?? '(unnamed)';
  if (tensor.data_type !== DataType.FLOAT) {
    throw new InputError(
      `tensor "${name}": data type ${tensor.data_type ?? 'unset'} is not float32; only float32 weights are quantized`,
      {
        file,
        code: 'UNSUPPORTED_TYPE',
      },
    );
  }
  const dims = (tensor.dims ?? []).map(toNumber);
  const count = elementCount(tensor);
  const range = external.get(tensor);
  const inlineFloats =
    tensor.float_data && tensor.float_data.length > 0 ? Float32Array.from(tensor.float_data) : undefined;
  const raw = tensor.raw_data && tensor.raw_data.length > 0 ? tensor.raw_data : undefined;
  const available = range ? range.length : raw ? raw.length : inlineFloats ? inlineFloats.length * 4 : 0;
  if (available !== count * 4) {
    throw new InputError(
      `tensor "${name}": malformed data: ${available} bytes stored, shape [${dims.join(', ')}] of float32 needs ${count * 4}`,
      { file, code: 'MALFORMED_TENSOR' },
    );
  }
  async function* chunks({ maxElements = CHUNK_ELEMENTS, slots }: ChunkOptions = {}): AsyncIterable<FloatChunk> {
    if (slots && slots.some((slot) => slot.length < maxElements))
      throw new Error('chunks: read slots are smaller than a chunk');
    if (inlineFloats) {
      for (let offset = 0; offset < count; offset += maxElements) {
        yield { offset, values: inlineFloats.subarray(offset, Math.min(count, offset + maxElements)) };
      }
      return;
    }
    if (raw) {
      for (let offset = 0, index = 0; offset < count; offset += maxElements, index += 1) {
        yield { offset, values: floatsOf(raw, offset, Math.min(maxElements, count - offset), slots?.[index % 2]) };
      }
      return;
    }
    const handle = await open(range!.file, 'r');
    let reads = 0;
    const read = async (offset: number): Promise<FloatChunk> => {
      const n = Math.min(maxElements, count - offset);
      const slot = slots?.[reads++ % 2];
      const buffer = slot ? new Uint8Array(slot.buffer, slot.byteOffset, n * 4) : Buffer.allocUnsafe(n * 4);
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await handle.read(buffer, done, buffer.length - done, range!.offset + offset * 4 + done);
        if (bytesRead === 0) throw new InputError(`tensor "${name}": external data ends early`, { file });
        done += bytesRead;
      }
      return { offset, values: new Float32Array(buffer.buffer, buffer.byteOffset, n) };
    };
    // read ahead: the next chunk is read while the caller works on this one
    let next: Promise<FloatChunk> | undefined = count > 0 ? read(0) : undefined;
    try {
      while (next) {
        const chunk = await next;
        const following = chunk.offset + chunk.values.length;
        next = following < count ? read(following) : undefined;
        yield chunk;
      }
    } finally {
      // a consumer that stops early must not leave a read running on a closed handle
      if (next) await next.catch(() => undefined);
      await handle.close();
    }
  }
  return { name, dims, count, chunks };
}

/** Reads a whole (bounded-size) float tensor into memory, e.g. to transpose a Gemm weight. */
export async function readAllFloats(source: FloatSource): Promise<Float32Array> {
  const out = new Float32Array(source.count);
  for await (const chunk of source.chunks()) out.set(chunk.values, chunk.offset);
  return out;
}
