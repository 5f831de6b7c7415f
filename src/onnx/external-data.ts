import { createReadStream, realpathSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { InputError } from '../errors.js';
import type { GraphProto, TensorProto } from './proto.js';
import { expectedByteLength, externalInfo, isExternal, type ExternalInfo } from './tensor.js';

/** A validated external tensor: where its bytes are, as an absolute path inside the model dir. */
export interface ExternalRange {
  tensor: string;
  file: string;
  location: string;
  offset: number;
  length: number;
}

/** Every tensor of a graph that can carry data: initializers and tensor attributes, in subgraphs too. */
function graphTensors(graph: GraphProto | undefined): TensorProto[] {
  if (!graph) return [];
  const out: TensorProto[] = [...(graph.initializer ?? [])];
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      const t = attribute.t as TensorProto | undefined;
      if (t) out.push(t);
      for (const tensor of (attribute.tensors as TensorProto[] | undefined) ?? []) out.push(tensor);
      if (attribute.g) out.push(...graphTensors(attribute.g));
      for (const sub of attribute.graphs ?? []) out.push(...graphTensors(sub));
    }
  }
  return out;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Resolves one tensor's external data and checks it is safe to read: a relative location without
 * "..", that stays inside the model directory after following symlinks, within the file's size, and
 * as long as the tensor's shape needs. Every failure is an InputError naming the tensor.
 */
function resolveExternal(tensor: TensorProto, modelDir: string, modelFile: string): ExternalRange {
  const name = tensor.name ?? '(unnamed)';
  let info: ExternalInfo;
  try {
    info = externalInfo(tensor);
  } catch {
    throw new InputError(`tensor "${name}": unreadable external_data entries`, { file: modelFile });
  }
  const fail = (problem: string): never => {
    throw new InputError(`tensor "${name}": ${problem}`, { file: modelFile, code: 'UNSAFE_EXTERNAL_DATA' });
  };
  const { location } = info;
  if (!location) fail('external data has no location');
  if (isAbsolute(location) || /^[A-Za-z]:[\\/]/.test(location))
    fail(`external data location "${location}" is absolute`);
  if (location.split(/[\\/]/).includes('..')) fail(`external data location "${location}" contains ".."`);
  if (!Number.isSafeInteger(info.offset) || info.offset < 0)
    fail(`external data offset "${String(info.offset)}" is invalid`);
  if (info.length !== undefined && (!Number.isSafeInteger(info.length) || info.length < 0)) {
    fail(`external data length "${String(info.length)}" is invalid`);
  }
  const root = realpathSync(modelDir);
  const candidate = resolve(root, location);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    return fail(`external data file "${location}" does not exist`);
  }
  if (!inside(root, real)) fail(`external data location "${location}" escapes the model directory (through a symlink)`);
  const fileInfo = statSync(real);
  if (!fileInfo.isFile()) fail(`external data location "${location}" is not a file`);
  const size = fileInfo.size;
  const length = info.length ?? size - info.offset;
  if (info.offset + length > size) {
    fail(`external data range ${info.offset}+${length} points past the end of "${location}" (${size} bytes)`);
  }
  const expected = expectedByteLength(tensor);
  if (expected !== undefined && expected !== length) {
    fail(`external data holds ${length} bytes but the tensor's shape and type need ${expected}`);
  }
  return { tensor: name, file: real, location, offset: info.offset, length };
}

/** Validates every external tensor of a model and refuses duplicate or overlapping ranges. */
export function resolveAllExternal(
  graph: GraphProto | undefined,
  modelDir: string,
  modelFile: string,
): Map<TensorProto, ExternalRange> {
  const resolved = new Map<TensorProto, ExternalRange>();
  for (const tensor of graphTensors(graph).filter(isExternal))
    resolved.set(tensor, resolveExternal(tensor, modelDir, modelFile));
  const ranges = [...resolved.values()];
  const byFile = new Map<string, ExternalRange[]>();
  for (const range of ranges) byFile.set(range.file, [...(byFile.get(range.file) ?? []), range]);
  for (const list of byFile.values()) {
    const sorted = [...list].sort((a, b) => a.offset - b.offset);
    for (let index = 1; index < sorted.length; index += 1) {
      const previous = sorted[index - 1]!;
      const current = sorted[index]!;
      if (current.offset < previous.offset + previous.length && current.length > 0 && previous.length > 0) {
        const kind =
          current.offset === previous.offset && current.length === previous.length ? 'duplicate' : 'overlapping';
        throw new InputError(
          `tensors "${previous.tensor}" and "${current.tensor}" have ${kind} external data ranges in "${current.location}"`,
          { file: modelFile, code: 'UNSAFE_EXTERNAL_DATA' },
        );
      }
    }
  }
  return resolved;
}

/** Reads one external tensor's bytes (for tools that need a tensor's values, one at a time). */
export async function readExternalBytes(range: ExternalRange): Promise<Uint8Array> {
  const handle = await open(range.file, 'r');
  try {
    const buffer = Buffer.alloc(range.length);
    let done = 0;
    while (done < range.length) {
      const { bytesRead } = await handle.read(buffer, done, range.length - done, range.offset + done);
      if (bytesRead === 0) throw new Error(`${range.file}: unexpected end of file`);
      done += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

/** Writes `chunk` to a stream, waiting for 'drain' when its buffer is full (bounded memory). */
/** Writes a chunk and resolves once it has been handed to the file, so the caller may reuse the buffer. */
export async function writeChunk(stream: Writable, chunk: Uint8Array): Promise<void> {
  await new Promise<void>((resolveWrite, rejectWrite) =>
    stream.write(chunk, (error) => (error ? rejectWrite(error) : resolveWrite())),
  );
}

/** Streams a byte range of a file into `stream` in 1 MiB chunks. */
export async function copyRange(range: ExternalRange, stream: Writable): Promise<void> {
  if (range.length === 0) return;
  const input = createReadStream(range.file, {
    start: range.offset,
    end: range.offset + range.length - 1,
    highWaterMark: 1 << 20,
  });
  for await (const chunk of input) await writeChunk(stream, chunk as Buffer);
}
