import type { NodeProto, TensorProto } from '../../onnx/proto.js';
import { DataType } from '../../onnx/tensor.js';
import { readAllFloats } from '../float-source.js';
import { KernelWorkspace } from '../kernel-workspace.js';
import { roundHalfEven } from '../math.js';
import { intAttribute, makeNode, stringAttribute, type GraphQuantizer } from '../quantizer.js';

/**
 * Weight-only with more than 8 bits: int8 per column (scale = absmax / 127) plus the rounding residual,
 * which lies within half a step, on a finer grid of `residualBits` (2: 4 levels, about 10 bits in 1.25
 * bytes per weight; 4: 15 levels, about 12 bits in 1.5 bytes). The residual levels are packed 8 /
 * residualBits to a byte, element i + j*(K*N/per byte) in bits j*residualBits.. of byte i. The weight is
 * rebuilt by BitShift (uint8), Concat, Reshape, Cast, Sub, Mul and Add; all of them read only constants, so
 * onnxruntime folds them into a float weight when the session is created: the file keeps the packed
 * bytes, the MatMul runs in float. Used where 8-bit weights flip near-tie predictions (issue 10).
 * Only for 2-D weights whose size the values per byte divide.
 */
const NAME_SUFFIXES = [
  '',
  '_scales',
  '_residual',
  '_residual_scales',
  '_shape',
  '_float',
  '_main',
  '_levels',
  '_levels_kn',
  '_levels_float',
  '_centered',
  '_residual_float',
  '_dequantized',
];

export function rewriteMatMulWeightResidual(residualBits: 2 | 4) {
  const perByte = 8 / residualBits;
  return async function rewrite(node: NodeProto, quantizer: GraphQuantizer): Promise<NodeProto[] | undefined> {
    const [a = '', b = ''] = node.input ?? [];
    const source = quantizer.source(b);
    const [k = 0, n = 0] = source.dims;
    if (source.dims.length !== 2 || (k * n) % perByte !== 0 || quantizer.isFloatInitializer(a)) return undefined;
    const split = splitWeight(await readAllFloats(source), k, n, residualBits, quantizer.workspace);
    const parts = Array.from({ length: perByte }, (_, j) => j);
    const base = quantizer.uniqueName(`${b}_weight_${8 + residualBits}`, [
      ...NAME_SUFFIXES,
      ...parts.flatMap((j) => [`_high_${j}`, `_level_${j}`]),
    ]);
    await storeSplitWeight(quantizer, base, k, n, split);
    quantizer.quantizedWeights += 1;
    return [
      ...dequantizeNodes(quantizer, base, node.name ?? base, residualBits),
      { ...node, input: [a, `${base}_dequantized`, ...(node.input ?? []).slice(2)] },
    ];
  };
}

/** The int8 weight, its packed residual, both scales and the [K, N] shape as initializers named after `base`. */
async function storeSplitWeight(
  quantizer: GraphQuantizer,
  base: string,
  k: number,
  n: number,
  { main, residual, scales, residualScales }: ReturnType<typeof splitWeight>,
): Promise<void> {
  await quantizer.addInitializer({ name: base, dims: [k, n], data_type: DataType.INT8 }, main);
  await quantizer.addInitializer(
    { name: `${base}_residual`, dims: [residual.length], data_type: DataType.UINT8 },
    residual,
  );
  const floats = (values: Float32Array) => new Uint8Array(values.buffer);
  await quantizer.addInitializer({ name: `${base}_scales`, dims: [n], data_type: DataType.FLOAT }, floats(scales));
  await quantizer.addInitializer(
    { name: `${base}_residual_scales`, dims: [n], data_type: DataType.FLOAT },
    floats(residualScales),
  );
  quantizer.newInitializers.push({ name: `${base}_shape`, dims: [2], data_type: DataType.INT64, int64_data: [k, n] });
}

/** The nodes that rebuild the float weight `${base}_dequantized` from the stored parts (folded by onnxruntime at load). */
function dequantizeNodes(quantizer: GraphQuantizer, base: string, name: string, residualBits: 2 | 4): NodeProto[] {
  const parts = Array.from({ length: 8 / residualBits }, (_, j) => j);
  const scalar = (value: number) =>
    quantizer.constant(`weight_residual_${value}`, (constant): TensorProto => ({
      name: constant,
      dims: [],
      data_type: DataType.FLOAT,
      float_data: [value],
    }));
  const shift = (value: number) =>
    quantizer.constant(`weight_residual_shift_${value}`, (constant): TensorProto => ({
      name: constant,
      dims: [],
      data_type: DataType.UINT8,
      int32_data: [value],
    }));
  const float = [intAttribute('to', DataType.FLOAT)];
  const direction = (value: 'LEFT' | 'RIGHT') => [stringAttribute('direction', value)];
  // level j = bits j*b .. j*b+b-1 of the byte, in uint8: shifted left to the top (the bits above fall
  // off), then right to the bottom; two integer ops per level keep load-time folding cheap
  const unpack = parts.flatMap((j) => [
    makeNode(
      'BitShift',
      [`${base}_residual`, shift(8 - residualBits * (j + 1))],
      [`${base}_high_${j}`],
      `${name}_residual_high_${j}`,
      direction('LEFT'),
    ),
    makeNode(
      'BitShift',
      [`${base}_high_${j}`, shift(8 - residualBits)],
      [`${base}_level_${j}`],
      `${name}_residual_level_${j}`,
      direction('RIGHT'),
    ),
  ]);
  const levels = parts.map((j) => `${base}_level_${j}`);
  return [
    makeNode('Cast', [base], [`${base}_float`], `${name}_weight_cast`, float),
    makeNode('Mul', [`${base}_float`, `${base}_scales`], [`${base}_main`], `${name}_weight_scale`),
    ...unpack,
    makeNode('Concat', levels, [`${base}_levels`], `${name}_residual_concat`, [intAttribute('axis', 0)]),
    makeNode('Reshape', [`${base}_levels`, `${base}_shape`], [`${base}_levels_kn`], `${name}_residual_reshape`),
    makeNode('Cast', [`${base}_levels_kn`], [`${base}_levels_float`], `${name}_residual_cast`, float),
    makeNode(
      'Sub',
      [`${base}_levels_float`, scalar((2 ** residualBits - 1) / 2)],
      [`${base}_centered`],
      `${name}_residual_center`,
    ),
    makeNode(
      'Mul',
      [`${base}_centered`, `${base}_residual_scales`],
      [`${base}_residual_float`],
      `${name}_residual_scale`,
    ),
    makeNode('Add', [`${base}_main`, `${base}_residual_float`], [`${base}_dequantized`], `${name}_weight_add`),
  ];
}

/**
 * The int8 weight, the packed residual levels and both per-column scales of a [K, N] float weight.
 * The residual lies within half a step s of the int8 grid; it is stored mid-rise on 2^bits levels of
 * s / 2^bits each (value = (level - (2^bits - 1) / 2) * s / 2^bits), so its error is at most s / 2^(bits+1).
 */
export function splitWeight(
  values: Float32Array,
  k: number,
  n: number,
  residualBits: 2 | 4,
  workspace?: KernelWorkspace,
) {
  const levelCount = 2 ** residualBits;
  const scales = new Float32Array(n);
  // row by row (index = row * n + column): no modulo in the hot loops
  for (let row = 0, index = 0; row < k; row += 1) {
    for (let column = 0; column < n; column += 1, index += 1) {
      const magnitude = Math.abs(values[index]!);
      if (magnitude > scales[column]!) scales[column] = magnitude;
    }
  }
  const residualScales = new Float32Array(n);
  for (let column = 0; column < n; column += 1) {
    scales[column] = scales[column]! > 0 ? Math.fround(scales[column]! / 127) : 1;
    residualScales[column] = Math.fround(scales[column]! / levelCount);
  }
  const main = new Uint8Array(k * n);
  const levels = new Uint8Array(k * n);
  const half = levelCount / 2;
  // the SIMD kernel when it takes this column count (bit-identical to the scalar loop: unit test)
  if (workspace && KernelWorkspace.suitsColumns(n) && n <= workspace.chunkElements)
    workspace.splitColumns(values, scales, residualScales, half, levelCount - 1, main, levels);
  else splitScalar(values, k, n, scales, residualScales, half, levelCount, main, levels);
  const perByte = 8 / residualBits;
  const count = (k * n) / perByte;
  const residual = new Uint8Array(count);
  for (let index = 0; index < count; index += 1) {
    let byte = 0;
    for (let j = 0; j < perByte; j += 1) byte |= levels[index + j * count]! << (residualBits * j);
    residual[index] = byte;
  }
  return { main, residual, scales, residualScales };
}

/** splitWeight's per-value loop in scalar code: the reference of the SIMD kernel. */
function splitScalar(
  values: Float32Array,
  k: number,
  n: number,
  scales: Float32Array,
  residualScales: Float32Array,
  half: number,
  levelCount: number,
  main: Uint8Array,
  levels: Uint8Array,
): void {
  for (let row = 0, index = 0; row < k; row += 1) {
    for (let column = 0; column < n; column += 1, index += 1) {
      const scale = scales[column]!;
      const value = values[index]!;
      const q = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(value / scale))));
      main[index] = q & 0xff;
      const rest = Math.fround(value - Math.fround(q * scale));
      levels[index] = Math.max(
        0,
        Math.min(levelCount - 1, Math.floor(Math.fround(rest / residualScales[column]!)) + half),
      );
    }
  }
}
