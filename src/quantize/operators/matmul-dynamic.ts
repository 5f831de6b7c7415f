import type { NodeProto } from '../../onnx/proto.js';
import { DataType } from '../../onnx/tensor.js';
import { intAttribute, makeNode, type GraphQuantizer, type QuantizedValue } from '../quantizer.js';

function quantizeActivation(name: string, quantizer: GraphQuantizer, emit: NodeProto[]): QuantizedValue {
  const known = quantizer.valueMap.get(name);
  if (known) return known;
  const value = { q: `${name}_quantized`, scale: `${name}_scale`, zeroPoint: `${name}_zero_point` };
  emit.push(
    makeNode('DynamicQuantizeLinear', [name], [value.q, value.scale, value.zeroPoint], `${name}_QuantizeLinear`),
  );
  quantizer.valueMap.set(name, value);
  return value;
}

/**
 * ORT's quantize_dynamic MatMul (MatMulInteger in IntegerOps mode): DynamicQuantizeLinear (one uint8
 * scale per tensor, at run time) + MatMulInteger + Cast + a Mul by the product of both scales, with
 * ORT's names, so that onnxruntime fuses it as it fuses its own quantizer's output.
 */
export async function rewriteMatMulDynamic(node: NodeProto, quantizer: GraphQuantizer): Promise<NodeProto[]> {
  const emit: NodeProto[] = [];
  const { options } = quantizer;
  const [a = '', b = ''] = node.input ?? [];
  const activation = quantizer.isFloatInitializer(a)
    ? await quantizer.quantizeInitializer(a, 'uint8', false)
    : quantizeActivation(a, quantizer, emit);
  const weight = await quantizer.quantizeInitializer(
    b,
    options.weightType,
    options.reduceRange,
    options.perChannel ? -1 : undefined,
  );
  const output = node.output?.[0] ?? '';
  const integerName = node.name ? `${node.name}_quant` : '';
  const integerOutput = `${output}_output_quantized`;
  emit.push(
    makeNode(
      'MatMulInteger',
      [activation.q, weight.q, activation.zeroPoint, weight.zeroPoint],
      [integerOutput],
      integerName,
    ),
  );
  emit.push(
    makeNode('Cast', [integerOutput], [`${integerOutput}_cast_output`], `${integerOutput}_cast`, [
      intAttribute('to', DataType.FLOAT),
    ]),
  );
  const scalesName = integerName ? `${integerName}_scales_mul` : `${activation.scale}_${weight.scale}_mul`;
  let scalesNode = quantizer.nodes.find((n) => n.name === scalesName);
  if (!scalesNode) {
    scalesNode = makeNode('Mul', [activation.scale, weight.scale], [`${scalesName}:0`], scalesName);
    emit.push(scalesNode);
  }
  emit.push(
    makeNode(
      'Mul',
      [`${integerOutput}_cast_output`, scalesNode.output![0]!],
      [output],
      integerName ? `${integerName}_output_scale_mul` : '',
    ),
  );
  return emit;
}
