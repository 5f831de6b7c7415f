import { InputError } from '../errors.js';
import type { FloatChunk, FloatSource } from './float-source.js';

/** Largest tensor kept in memory between the min/max pass and the value pass (else read twice). */
const CACHE_BYTES = 256 * 2 ** 20;
import { computeScaleZeroPoint, fullRange, qRange, quantizeRun, type QuantType } from './math.js';

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
  /** The quantized values, produced chunk by chunk from the source (read twice: stats, then values). */
  data(): AsyncIterable<Uint8Array>;
}

interface Layout {
  channels: number;
  inner: number;
}

function layout(dims: number[], axis: number | undefined): Layout & { axis?: number } {
  if (axis === undefined) return { channels: 1, inner: 1 };
  const rank = dims.length;
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) throw new Error(`per-channel axis ${axis} is out of range for rank ${rank}`);
  const inner = dims.slice(normalized + 1).reduce((product, dim) => product * dim, 1);
  return { channels: dims[normalized]!, inner, axis: normalized };
}

/**
 * Quantizes one float32 weight the way onnxruntime's quantize_initializer_impl /
 * quantize_weight_per_channel_impl do, streaming: one pass for min/max, one pass for values.
 */
export async function quantizeWeight(source: FloatSource, params: WeightParams, file: string): Promise<QuantizedWeight> {
  const { channels, inner, axis } = layout(source.dims, params.channelAxis);
  const mins = new Float64Array(channels).fill(Infinity);
  const maxs = new Float64Array(channels).fill(-Infinity);
  // tensors up to CACHE_BYTES are read once and kept for the second pass; larger ones are read twice
  const cached: FloatChunk[] | undefined = source.count * 4 <= CACHE_BYTES ? [] : undefined;
  for await (const chunk of source.chunks()) {
    const { offset, values } = chunk;
    cached?.push(chunk);
    if (channels === 1) {
      let min = mins[0]!;
      let max = maxs[0]!;
      let nan = false;
      for (let index = 0; index < values.length; index += 1) {
        const value = values[index]!;
        if (value < min) min = value;
        if (value > max) max = value;
        if (value !== value) nan = true;
      }
      mins[0] = min;
      maxs[0] = max;
      if (!nan && Number.isFinite(min) && Number.isFinite(max)) continue;
    }
    for (let index = 0; index < values.length; index += 1) {
      const value = values[index]!;
      if (!Number.isFinite(value)) {
        throw new InputError(`tensor "${source.name}": contains NaN or Inf at element ${offset + index}; it cannot be quantized`, {
          file,
          code: 'MALFORMED_TENSOR',
        });
      }
      const channel = channels === 1 ? 0 : Math.floor((offset + index) / inner) % channels;
      if (value < mins[channel]!) mins[channel] = value;
      if (value > maxs[channel]!) maxs[channel] = value;
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
  const [low, high] = fullRange(params.type);
  async function* data(): AsyncIterable<Uint8Array> {
    for await (const { offset, values } of cached ?? source.chunks()) {
      const out = new Uint8Array(values.length);
      if (channels === 1) quantizeRun(values, 0, values.length, scales[0]!, zeroPoints[0]!, low, high, out, 0);
      else {
        // walk runs of consecutive elements that share a channel
        let index = 0;
        while (index < values.length) {
          const position = offset + index;
          const channel = Math.floor(position / inner) % channels;
          const end = Math.min(values.length, index + (inner - (position % inner)));
          quantizeRun(values, index, end, scales[channel]!, zeroPoints[channel]!, low, high, out, index);
          index = end;
        }
      }
      yield out;
    }
  }
  return {
    type: params.type,
    dims: source.dims,
    scales,
    zeroPoints,
    ...(axis !== undefined ? { channelAxis: axis } : {}),
    byteLength: source.count,
    data,
  };
}
