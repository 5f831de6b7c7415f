import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { InputError } from '../errors.js';
import { copyRange, readExternalBytes, resolveAllExternal, writeChunk, type ExternalRange } from './external-data.js';
import { decodeModel, encodeModel, type ModelProto, type StringStringEntryProto, type TensorProto } from './proto.js';
import { EXTERNAL } from './tensor.js';
import { checkWire } from './wire-check.js';

/** Protobuf's hard limit, less a margin for the graph structure around the weights. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;
export const INLINE_LIMIT = PROTOBUF_LIMIT - 64 * 2 ** 20;
/** Tensors smaller than this stay inline (onnx's save_as_external_data uses the same default). */
export const EXTERNAL_THRESHOLD = 1024;
/** Tensors of at least 1 MiB start at 64 KiB offsets, so a loader can mmap them on any OS; others at 4 KiB. */
const LARGE_TENSOR = 2 ** 20;
export const ALIGN_LARGE = 64 * 1024;
export const ALIGN_SMALL = 4096;

export interface OnnxFile {
  file: string;
  dir: string;
  /** Size of the .onnx protobuf itself. */
  protobufBytes: number;
  model: ModelProto;
  /** Where the bytes of each external tensor live (validated: inside `dir`, within file bounds). */
  external: Map<TensorProto, ExternalRange>;
}

/**
 * Reads an ONNX file: refuses files whose protobuf has fields this schema does not know (they would be
 * lost on rewrite), files that are not ONNX, and unsafe or out-of-bounds external data.
 * External tensor bytes are not read, only located.
 */
export async function readOnnx(file: string): Promise<OnnxFile> {
  const info = await stat(file).catch(() => {
    throw new InputError('the ONNX file does not exist', { file });
  });
  if (!info.isFile()) throw new InputError('not a file', { file });
  if (info.size > PROTOBUF_LIMIT) {
    throw new InputError(
      'the file is larger than protobuf allows (2 GB); large models keep their weights in external data',
      { file },
    );
  }
  const bytes = await readFile(file);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new InputError(`not an ONNX model (protobuf decode failed: ${(error as Error).message})`, { file });
  }
  if (!model.graph) throw new InputError('not an ONNX model (no graph)', { file });
  let wire: ReturnType<typeof checkWire>;
  try {
    wire = checkWire(bytes);
  } catch (error) {
    throw new InputError(`not an ONNX model: the protobuf is truncated or corrupt (${(error as Error).message})`, {
      file,
    });
  }
  const unknown = wire.unknown;
  if (unknown.length > 0) {
    const first = unknown[0]!;
    throw new InputError(
      `field ${first.fieldNumber} (wire type ${first.wireType}) of onnx.${first.type} at ${first.path} is not in the ONNX schema ` +
        `this tool knows (onnx 1.23, IR 14)${unknown.length > 1 ? ` (+${unknown.length - 1} more)` : ''}; refusing to rewrite ` +
        'the model because that data would be lost',
      {
        file,
        code: 'UNKNOWN_FIELD',
        hint: 'upgrade rapidfit-export, or re-save the model with an onnx version this tool supports',
      },
    );
  }
  if (wire.invalidStrings.length > 0) {
    // protobufjs would decode it with U+FFFD and a rewrite would silently change it: the file is corrupt
    throw new InputError(
      `not a valid ONNX model: the string at ${wire.invalidStrings[0]!.path} is not UTF-8 (the file is corrupt)`,
      { file },
    );
  }
  const dir = dirname(file);
  const external = resolveAllExternal(model.graph, dir, file);
  const initializers = new Set(model.graph.initializer ?? []);
  for (const [tensor, range] of external) {
    if (!initializers.has(tensor)) {
      throw new InputError(`tensor "${range.tensor}": external data is only supported for initializers`, { file });
    }
  }
  return { file, dir, protobufBytes: info.size, model, external };
}

export type ExternalDataMode = 'auto' | 'always' | 'never';

export interface WriteOptions {
  /** auto: external only when the protobuf would pass 2 GB. */
  externalData: ExternalDataMode;
  /** Data file name, relative to the .onnx; default "<stem>_weights.bin" (RapidFit's name). */
  location?: string;
  threshold?: number;
}

export interface WrittenOnnx {
  file: string;
  dataFile?: string;
  externalTensors: number;
  dataBytes: number;
  protobufBytes: number;
}

function tensorBytes(tensor: TensorProto, sources: Map<TensorProto, ExternalRange>): number {
  return sources.get(tensor)?.length ?? tensor.raw_data?.length ?? 0;
}

/** Total weight bytes of the model's initializers, inline or external. */
function weightBytes(model: ModelProto, sources: Map<TensorProto, ExternalRange>): number {
  return (model.graph?.initializer ?? []).reduce((sum, tensor) => sum + tensorBytes(tensor, sources), 0);
}

/**
 * Appends tensors to one external data file, each at an aligned offset (64 KiB for tensors of 1 MiB
 * or more, 4 KiB otherwise), from memory or streamed from a source range. Returns the
 * `external_data` entries for each tensor.
 */
export class ExternalDataWriter {
  private readonly stream: WriteStream;
  private readonly done: Promise<void>;
  private offset = 0;

  constructor(
    readonly path: string,
    private readonly location: string,
  ) {
    this.stream = createWriteStream(path);
    this.done = finished(this.stream);
  }

  async append(
    data: Uint8Array | ExternalRange | AsyncIterable<Uint8Array>,
    byteLength?: number,
  ): Promise<StringStringEntryProto[]> {
    const length =
      data instanceof Uint8Array
        ? data.length
        : 'length' in data && typeof data.length === 'number'
          ? data.length
          : byteLength;
    if (length === undefined) throw new Error('append: the length of a streamed tensor must be given');
    const align = length >= LARGE_TENSOR ? ALIGN_LARGE : ALIGN_SMALL;
    const padding = (align - (this.offset % align)) % align;
    if (padding > 0) await writeChunk(this.stream, new Uint8Array(padding));
    this.offset += padding;
    const start = this.offset;
    if (data instanceof Uint8Array) await writeChunk(this.stream, data);
    else if ('file' in data) await copyRange(data, this.stream);
    else {
      let written = 0;
      for await (const chunk of data) {
        await writeChunk(this.stream, chunk);
        written += chunk.length;
      }
      if (written !== length) throw new Error(`append: streamed ${written} bytes, expected ${length}`);
    }
    this.offset += length;
    return [
      { key: 'location', value: this.location },
      { key: 'offset', value: String(start) },
      { key: 'length', value: String(length) },
    ];
  }

  /** Finishes the file; returns its size. */
  async close(): Promise<number> {
    this.stream.end();
    await this.done;
    return this.offset;
  }
}

export function stripExternal(tensor: TensorProto): TensorProto {
  const { data_location: _location, external_data: _external, raw_data: _raw, ...rest } = tensor;
  return rest;
}

/** Encodes `model` and writes it at `outFile` through `<outFile>.partial` (never half-written); returns its bytes. */
export async function writeModelFile(outFile: string, model: ModelProto): Promise<number> {
  const bytes = encodeModel(model);
  const partial = `${outFile}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, outFile);
  return bytes.length;
}

/** The external data file of a graph file, relative to it: "<stem>_weights.bin" (RapidFit's name). */
export function dataLocation(graphFile: string): string {
  return `${basename(graphFile).replace(/\.onnx$/, '')}_weights.bin`;
}

/**
 * Writes `model` to `file`. With external data, initializers of at least `threshold` bytes are
 * streamed one by one into one shared data file beside it (aligned offsets), from memory or from
 * their source files, so memory stays bounded by the largest tensor, not the model.
 * The input model is not modified.
 */
export async function writeOnnx(
  file: string,
  model: ModelProto,
  sources: Map<TensorProto, ExternalRange>,
  options: WriteOptions,
): Promise<WrittenOnnx> {
  const graph = model.graph!;
  const total = weightBytes(model, sources);
  const externalize = options.externalData === 'always' || (options.externalData === 'auto' && total > INLINE_LIMIT);
  if (!externalize && total > INLINE_LIMIT) {
    throw new InputError(
      `the model's weights (${(total / 2 ** 30).toFixed(2)} GiB) do not fit in one protobuf; use external data`,
      {
        file,
      },
    );
  }
  const threshold = options.threshold ?? EXTERNAL_THRESHOLD;
  const replaced = new Map<TensorProto, TensorProto>();
  let dataFile: string | undefined;
  let dataBytes = 0;
  let externalTensors = 0;

  if (externalize) {
    const location = options.location ?? dataLocation(file);
    const writer = new ExternalDataWriter(join(dirname(file), location), location);
    for (const tensor of graph.initializer ?? []) {
      const length = tensorBytes(tensor, sources);
      const source = sources.get(tensor);
      if (length < threshold || (!source && !tensor.raw_data)) {
        if (source) replaced.set(tensor, { ...stripExternal(tensor), raw_data: await readExternalBytes(source) });
        continue;
      }
      const entries = await writer.append(source ?? tensor.raw_data!);
      replaced.set(tensor, { ...stripExternal(tensor), data_location: EXTERNAL, external_data: entries });
      externalTensors += 1;
    }
    dataBytes = await writer.close();
    dataFile = writer.path;
  } else {
    for (const tensor of graph.initializer ?? []) {
      const source = sources.get(tensor);
      if (source) replaced.set(tensor, { ...stripExternal(tensor), raw_data: await readExternalBytes(source) });
    }
  }

  const out: ModelProto = {
    ...model,
    graph: { ...graph, initializer: (graph.initializer ?? []).map((tensor) => replaced.get(tensor) ?? tensor) },
  };
  const bytes = encodeModel(out);
  await writeFile(file, bytes);
  return { file, ...(dataFile ? { dataFile } : {}), externalTensors, dataBytes, protobufBytes: bytes.length };
}
