import type { NodeProto } from '../../onnx/proto.js';
import { DataType } from '../../onnx/tensor.js';
import { readAllFloats } from '../float-source.js';
import { roundHalfEven } from '../math.js';
import { intAttribute, makeNode, type GraphQuantizer } from '../quantizer.js';

/**
 * Weight-only 8-bit, block-wise: the weight [K, N] is stored as int8 [K / blockSize, blockSize, N]
 * with one symmetric scale per block of `blockSize` rows of each column ([K / blockSize, 1, N]), and
 * rebuilt by Cast -> Mul -> Reshape. Those nodes read only constants, so onnxruntime folds them into a
 * float weight when the session is created: the file keeps 8-bit weights, the MatMul runs in float at
 * FP32 speed. (com.microsoft MatMulNBits with 8 bits does the same in one op, but measured 2-5x slower
 * than FP32 in onnxruntime-node 1.30 on AVX2.) Only for 2-D weights whose K the block size divides.
 */
export async function rewriteMatMulWeightOnly(
  node: NodeProto,
  quantizer: GraphQuantizer,
): Promise<NodeProto[] | undefined> {
  const [a = '', b = ''] = node.input ?? [];
  const source = quantizer.source(b);
  const blockSize = quantizer.options.blockSize;
  const [k = 0, n = 0] = source.dims;
  if (source.dims.length !== 2 || k % blockSize !== 0 || quantizer.isFloatInitializer(a)) return undefined;
  const blocks = k / blockSize;
  const values = await readAllFloats(source);
  const packed = new Uint8Array(k * n);
  const scales = new Float32Array(blocks * n);
  for (let block = 0; block < blocks; block += 1) {
    for (let column = 0; column < n; column += 1) {
      let absMax = 0;
      for (let row = block * blockSize; row < (block + 1) * blockSize; row += 1)
        absMax = Math.max(absMax, Math.abs(values[row * n + column]!));
      const scale = absMax > 0 ? Math.fround(absMax / 127) : 1;
      scales[block * n + column] = scale;
      for (let row = block * blockSize; row < (block + 1) * blockSize; row += 1) {
        packed[row * n + column] =
          Math.max(-127, Math.min(127, roundHalfEven(Math.fround(values[row * n + column]! / scale)))) & 0xff;
      }
    }
  }
  const base = quantizer.uniqueName(`${b}_weight_only`, ['', '_scales', '_shape', '_float', '_scaled', '_dequantized']);
  await quantizer.addInitializer({ name: base, dims: [blocks, blockSize, n], data_type: DataType.INT8 }, packed);
  await quantizer.addInitializer(
    { name: `${base}_scales`, dims: [blocks, 1, n], data_type: DataType.FLOAT },
    new Uint8Array(scales.buffer),
  );
  quantizer.newInitializers.push({ name: `${base}_shape`, dims: [2], data_type: DataType.INT64, int64_data: [k, n] });
  quantizer.quantizedWeights += 1;
  const name = node.name ?? base;
  return [
    makeNode('Cast', [base], [`${base}_float`], `${name}_weight_cast`, [intAttribute('to', DataType.FLOAT)]),
    makeNode('Mul', [`${base}_float`, `${base}_scales`], [`${base}_scaled`], `${name}_weight_scale`),
    makeNode('Reshape', [`${base}_scaled`, `${base}_shape`], [`${base}_dequantized`], `${name}_weight_reshape`),
    { ...node, input: [a, `${base}_dequantized`, ...(node.input ?? []).slice(2)] },
  ];
}
