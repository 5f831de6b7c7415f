import { InputError } from '../errors.js';
import type { FloatChunk, FloatSource } from './float-source.js';
import { computeScaleZeroPoint, qRange, type QuantType } from './math.js';
import { KernelWorkspace } from './kernel-workspace.js';

export interface WeightParams {
  type: QuantType;
  symmetric: boolean;
  reduceRange: boolean;
  /** Quantize per slice along this axis (per channel); undefined: one scale for the tensor. */
  channelAxis?: number;
}

export interface QuantizedWeight {
  type: QuantType;
  dims: number[];
  scales: number[];
  zeroPoints: number[];
  /** Normalised axis when per channel. */
  channelAxis?: number;
  byteLength: number;
  /**
   * The quantized values, chunk by chunk from the source (read twice: stats, then values). Chunks live
   * in the workspace's write slots: each must be consumed (copied or flushed) before the next is requested.
   */
  data(): AsyncIterable<Uint8Array>;
}

/** The tensor seen as [outer, channels, inner]; one channel when quantized per tensor. */
interface Layout {
  channels: number;
  inner: number;
  axis?: number;
}

function layout(dims: number[], axis: number | undefined): Layout {
  if (axis === undefined) return { channels: 1, inner: 1 };
  const rank = dims.length;
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank)
    throw new Error(`per-channel axis ${axis} is out of range for rank ${rank}`);
  const inner = dims.slice(normalized + 1).reduce((product, dim) => product * dim, 1);
  return { channels: dims[normalized]!, inner, axis: normalized };
}

/** A stretch [start, end) of a chunk: whole rows of all channels (channel = last axis), or one channel's run. */
type Segment = { start: number; end: number } & ({ rows: true } | { rows: false; channel: number });

/**
 * Splits a chunk into segments: whole rows go to the column kernels when the channel is the last axis
 * and the channel count suits them (a multiple of 4); everything else is runs of a single channel.
 */
function* segments(offset: number, length: number, { channels, inner }: Layout): Generator<Segment> {
  if (channels === 1) {
    yield { start: 0, end: length, rows: false, channel: 0 };
    return;
  }
  let index = 0;
  if (inner === 1 && KernelWorkspace.suitsColumns(channels)) {
    const firstRow = Math.min(length, (channels - (offset % channels)) % channels);
    for (; index < firstRow; index += 1)
      yield { start: index, end: index + 1, rows: false, channel: (offset + index) % channels };
    const wholeRows = firstRow + Math.floor((length - firstRow) / channels) * channels;
    if (wholeRows > firstRow) yield { start: firstRow, end: wholeRows, rows: true };
    index = wholeRows;
  }
  while (index < length) {
    const position = offset + index;
    const end = Math.min(length, index + (inner - (position % inner)));
    yield { start: index, end, rows: false, channel: Math.floor(position / inner) % channels };
    index = end;
  }
}

function refuseNonFinite(source: FloatSource, { offset, values }: FloatChunk, file: string): never {
  const index = values.findIndex((value) => !Number.isFinite(value));
  throw new InputError(
    `tensor "${source.name}": contains NaN or Inf at element ${offset + index}; it cannot be quantized`,
    {
      file,
      code: 'MALFORMED_TENSOR',
    },
  );
}

/**
 * Quantizes one float32 weight the way onnxruntime's quantize_initializer_impl /
 * quantize_weight_per_channel_impl do, streaming: one pass for min/max, one pass for values.
 */
export async function quantizeWeight(
  source: FloatSource,
  params: WeightParams,
  file: string,
  workspace: KernelWorkspace,
): Promise<QuantizedWeight> {
  const shape = layout(source.dims, params.channelAxis);
  const { channels } = shape;
  const mins = new Float32Array(channels).fill(Infinity);
  const maxs = new Float32Array(channels).fill(-Infinity);
  const extremes = { min: 0, max: 0 };
  // external data is read into kernel memory; the second pass re-reads it (from the page cache as a rule)
  const chunkOptions = { maxElements: workspace.chunkElements, slots: workspace.readSlots };
  for await (const chunk of source.chunks(chunkOptions)) {
    for (const segment of segments(chunk.offset, chunk.values.length, shape)) {
      const values = chunk.values.subarray(segment.start, segment.end);
      if (segment.rows) {
        workspace.updateColumnExtremes(values, mins, maxs);
        continue;
      }
      extremes.min = mins[segment.channel]!;
      extremes.max = maxs[segment.channel]!;
      workspace.updateExtremes(values, extremes);
      mins[segment.channel] = extremes.min;
      maxs[segment.channel] = extremes.max;
    }
    // untouched channels still hold +Inf/-Inf; a NaN, -Inf minimum or +Inf maximum came from the data
    for (let channel = 0; channel < channels; channel += 1) {
      if (
        mins[channel] === -Infinity ||
        maxs[channel] === Infinity ||
        Number.isNaN(mins[channel]) ||
        Number.isNaN(maxs[channel])
      ) {
        refuseNonFinite(source, chunk, file);
      }
    }
  }
  const [qmin, qmax] = qRange(params.type, params.reduceRange, params.symmetric);
  const scales: number[] = [];
  const zeroPoints: number[] = [];
  for (let channel = 0; channel < channels; channel += 1) {
    // numpy: an empty tensor has rmin = rmax = 0
    const min = mins[channel] === Infinity ? 0 : mins[channel]!;
    const max = maxs[channel] === -Infinity ? 0 : maxs[channel]!;
    const { scale, zeroPoint } = computeScaleZeroPoint(min, max, qmin, qmax, params.symmetric);
    scales.push(scale);
    zeroPoints.push(zeroPoint);
  }
  const columnScales = Float32Array.from(scales);
  const columnZeroPoints = Float32Array.from(zeroPoints);
  async function* data(): AsyncIterable<Uint8Array> {
    for await (const { offset, values } of source.chunks(chunkOptions)) {
      const out = workspace.writeSlot(values.length);
      for (const segment of segments(offset, values.length, shape)) {
        const part = values.subarray(segment.start, segment.end);
        const target = out.subarray(segment.start, segment.end);
        if (segment.rows) workspace.quantizeColumns(part, columnScales, columnZeroPoints, params.type, target);
        else
          workspace.quantizeValues(part, scales[segment.channel]!, zeroPoints[segment.channel]!, params.type, target);
      }
      yield out;
    }
  }
  return {
    type: params.type,
    dims: source.dims,
    scales,
    zeroPoints,
    ...(shape.axis !== undefined ? { channelAxis: shape.axis } : {}),
    byteLength: source.count,
    data,
  };
}
