import type { NodeProto } from '../../onnx/proto.js';
import { DataType } from '../../onnx/tensor.js';
import { intAttribute, makeNode, type GraphQuantizer } from '../quantizer.js';
import { rewriteMatMulDynamic } from './matmul-dynamic.js';

const ATTRIBUTE_INTS = 7;
/** A row whose largest magnitude is below this is quantized with this scale (all zeros stay zeros). */
const MIN_ABS_MAX = 1e-12;

interface PerTokenActivation {
  q: string;
  rowScale: string;
}

const activations = new WeakMap<GraphQuantizer, Map<string, PerTokenActivation>>();

function scalar(quantizer: GraphQuantizer, key: string, dataType: number, value: number): string {
  return quantizer.constant(key, (name) =>
    dataType === DataType.FLOAT
      ? { name, dims: [], data_type: dataType, float_data: [value] }
      : { name, dims: [], data_type: dataType, int32_data: [value] },
  );
}

/**
 * Symmetric int8 per row (one scale per token, the absolute maximum of its last axis / 127), stored
 * shifted by 128 as uint8 so that one scalar zero point (128) gives MatMulInteger its U8S8 kernels.
 * Standard ops only: Abs, ReduceMax, Max, Div, Mul, Round, Add, Cast. Built once per activation.
 */
function quantizePerToken(name: string, quantizer: GraphQuantizer, emit: NodeProto[]): PerTokenActivation {
  let known = activations.get(quantizer);
  if (!known) activations.set(quantizer, (known = new Map<string, PerTokenActivation>()));
  const existing = known.get(name);
  if (existing) return existing;
  const base = quantizer.uniqueName(`${name}_per_token`, [
    '_abs',
    '_absmax',
    '_safe',
    '_inverse',
    '_scaled',
    '_rounded',
    '_shifted',
    '_quantized',
    '_scale',
  ]);
  const c127 = scalar(quantizer, 'per_token_127', DataType.FLOAT, 127);
  const c128 = scalar(quantizer, 'per_token_128', DataType.FLOAT, 128);
  const floor = scalar(quantizer, 'per_token_min_abs_max', DataType.FLOAT, MIN_ABS_MAX);
  const reduce =
    quantizer.opset >= 18
      ? makeNode(
          'ReduceMax',
          [
            `${base}_abs`,
            quantizer.constant('per_token_last_axis', (n) => ({
              name: n,
              dims: [1],
              data_type: DataType.INT64,
              int64_data: [-1],
            })),
          ],
          [`${base}_absmax`],
          `${base}_ReduceMax`,
          [intAttribute('keepdims', 1)],
        )
      : makeNode('ReduceMax', [`${base}_abs`], [`${base}_absmax`], `${base}_ReduceMax`, [
          { name: 'axes', type: ATTRIBUTE_INTS, ints: [-1] },
          intAttribute('keepdims', 1),
        ]);
  emit.push(
    makeNode('Abs', [name], [`${base}_abs`], `${base}_Abs`),
    reduce,
    makeNode('Max', [`${base}_absmax`, floor], [`${base}_safe`], `${base}_Max`),
    makeNode('Div', [c127, `${base}_safe`], [`${base}_inverse`], `${base}_Inverse`),
    makeNode('Div', [`${base}_safe`, c127], [`${base}_scale`], `${base}_Scale`),
    makeNode('Mul', [name, `${base}_inverse`], [`${base}_scaled`], `${base}_Mul`),
    makeNode('Round', [`${base}_scaled`], [`${base}_rounded`], `${base}_Round`),
    makeNode('Add', [`${base}_rounded`, c128], [`${base}_shifted`], `${base}_Shift`),
    makeNode('Cast', [`${base}_shifted`], [`${base}_quantized`], `${base}_Cast`, [intAttribute('to', DataType.UINT8)]),
  );
  const value = { q: `${base}_quantized`, rowScale: `${base}_scale` };
  known.set(name, value);
  return value;
}

/**
 * Per-token activations, per-channel int8 weights: MatMulInteger (zero points 128 and 0) -> Cast ->
 * Mul by the row scales -> Mul by the weight's column scales.
 */
export async function rewriteMatMulPerToken(node: NodeProto, quantizer: GraphQuantizer): Promise<NodeProto[]> {
  const [a = '', b = ''] = node.input ?? [];
  if (quantizer.isFloatInitializer(a)) return rewriteMatMulDynamic(node, quantizer);
  const emit: NodeProto[] = [];
  const activation = quantizePerToken(a, quantizer, emit);
  const weight = await quantizer.quantizeInitializer(b, 'int8', false, -1, true);
  const zeroPoint = quantizer.constant('per_token_zero_point', (name) => ({
    name,
    dims: [],
    data_type: DataType.UINT8,
    int32_data: [128],
  }));
  const output = node.output?.[0] ?? '';
  const base = quantizer.uniqueName(`${output}_per_token`, ['_integer', '_float', '_row_scaled']);
  const name = node.name ?? base;
  emit.push(
    makeNode(
      'MatMulInteger',
      [activation.q, weight.q, zeroPoint, weight.zeroPoint],
      [`${base}_integer`],
      `${name}_quant`,
    ),
    makeNode('Cast', [`${base}_integer`], [`${base}_float`], `${name}_cast`, [intAttribute('to', DataType.FLOAT)]),
    makeNode('Mul', [`${base}_float`, activation.rowScale], [`${base}_row_scaled`], `${name}_row_scale_mul`),
    makeNode('Mul', [`${base}_row_scaled`, weight.scale], [output], `${name}_column_scale_mul`),
  );
  return emit;
}
