import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { readExternalBytes } from '../onnx/external-data.js';
import {
  dataLocation,
  EXTERNAL_THRESHOLD,
  ExternalDataWriter,
  INLINE_LIMIT,
  stripExternal,
  writeModelFile,
  type ExternalDataMode,
  type OnnxFile,
} from '../onnx/model-file.js';
import type { ModelProto, TensorProto } from '../onnx/proto.js';
import { DataType, elementCount, EXTERNAL } from '../onnx/tensor.js';
import { floatSource, readAllFloats, type FloatSource } from '../quantize/float-source.js';
import { float16Graph } from './fp16-graph.js';
import { toHalf } from './half.js';

export interface Fp16Options {
  /** auto: weights go to "<out stem>_weights.bin" only when the protobuf would pass 2 GB. */
  externalData: ExternalDataMode;
  producerVersion: string;
}

export interface Fp16Result {
  file: string;
  dataFile?: string;
  /** The .onnx plus its external data. */
  bytes: number;
  /** Initializers stored as float16. */
  halfWeights: number;
  /** Nodes left in float32 (Casts around them), by op type. */
  float32Nodes: Record<string, number>;
}

/** A float32 initializer's values as float16 bytes, chunk by chunk (memory does not grow with the tensor). */
async function* halfChunks(source: FloatSource): AsyncIterable<Uint8Array> {
  for await (const chunk of source.chunks()) {
    const half = new Uint16Array(chunk.values.length);
    toHalf(chunk.values, half);
    yield new Uint8Array(half.buffer);
  }
}

/** A weight that stays inside the protobuf: converted in memory (all of them together are under 2 GB). */
async function halfInline(source: FloatSource): Promise<Uint8Array> {
  const half = new Uint16Array(source.count);
  toHalf(await readAllFloats(source), half);
  return new Uint8Array(half.buffer);
}

function storedBytes(tensor: TensorProto, input: OnnxFile): number {
  return input.external.get(tensor)?.length ?? tensor.raw_data?.length ?? 0;
}

/**
 * Writes the FP16 variant of a float32 ONNX graph (see float16Graph for what stays float32): every
 * converted weight is read and written in chunks, from memory or from its external data, and with
 * external data streamed into "<out stem>_weights.bin", so memory stays bounded by the chunk size.
 */
export async function convertToFp16(input: OnnxFile, outFile: string, options: Fp16Options): Promise<Fp16Result> {
  const converted = float16Graph(input.model.graph!, input.file);
  if (converted.halfInitializers.size === 0) {
    throw new InputError('fp16: the graph has no float32 weights to convert', { file: input.file });
  }
  const initializers = input.model.graph!.initializer ?? [];
  const estimate = initializers.reduce(
    (sum, tensor) =>
      sum + (converted.halfInitializers.has(tensor) ? elementCount(tensor) * 2 : storedBytes(tensor, input)),
    0,
  );
  const externalize = options.externalData === 'always' || (options.externalData === 'auto' && estimate > INLINE_LIMIT);
  if (!externalize && estimate > INLINE_LIMIT) {
    throw new InputError(
      `fp16: the weights (${(estimate / 2 ** 30).toFixed(2)} GiB) do not fit in one protobuf; use external data`,
      { file: outFile },
    );
  }
  const location = dataLocation(outFile);
  const writer = externalize ? new ExternalDataWriter(join(dirname(outFile), location), location) : undefined;
  const written: TensorProto[] = [];
  let dataBytes = 0;
  try {
    for (const tensor of initializers) {
      const { float_data: _floats, ...stripped } = stripExternal(tensor);
      if (converted.halfInitializers.has(tensor)) {
        const source = floatSource(tensor, input.external, input.file);
        const length = source.count * 2;
        const half: TensorProto = { ...stripped, data_type: DataType.FLOAT16 };
        written.push(
          writer && length >= EXTERNAL_THRESHOLD
            ? { ...half, data_location: EXTERNAL, external_data: await writer.append(halfChunks(source), length) }
            : { ...half, raw_data: await halfInline(source) },
        );
        continue;
      }
      const range = input.external.get(tensor);
      if (writer && storedBytes(tensor, input) >= EXTERNAL_THRESHOLD && (range || tensor.raw_data)) {
        written.push({
          ...stripExternal(tensor),
          data_location: EXTERNAL,
          external_data: await writer.append(range ?? tensor.raw_data!),
        });
      } else {
        written.push(range ? { ...stripExternal(tensor), raw_data: await readExternalBytes(range) } : tensor);
      }
    }
  } finally {
    if (writer) dataBytes = await writer.close();
  }
  const model: ModelProto = {
    ...input.model,
    producer_name: 'rapidfit-export.fp16',
    producer_version: options.producerVersion,
    graph: { ...converted.graph, initializer: written },
  };
  const modelBytes = await writeModelFile(outFile, model);
  return {
    file: outFile,
    ...(writer ? { dataFile: writer.path } : {}),
    bytes: modelBytes + dataBytes,
    halfWeights: converted.halfInitializers.size,
    float32Nodes: converted.float32Nodes,
  };
}
