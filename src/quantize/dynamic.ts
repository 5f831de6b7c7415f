import { basename, dirname, join } from 'node:path';
import { rename, rm, writeFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { ExternalRange } from '../onnx/external-data.js';
import { readExternalBytes } from '../onnx/external-data.js';
import { nodeInputs } from '../onnx/graph.js';
import { ExternalDataWriter, EXTERNAL_THRESHOLD, stripExternal, type OnnxFile } from '../onnx/model-file.js';
import { encodeModel, toNumber, type AttributeProto, type ModelProto, type NodeProto, type TensorProto } from '../onnx/proto.js';
import { DataType, EXTERNAL } from '../onnx/tensor.js';
import { CHUNK_ELEMENTS, floatSource, readAllFloats } from './float-source.js';
import { ONNX_TYPE, type QuantType } from './math.js';
import { IMPLEMENTED_OP_TYPES, type QuantizeOptions } from './options.js';
import { quantizeWeight, type QuantizedWeight } from './weight.js';
import { KernelWorkspace } from './kernel-workspace.js';

const ALREADY_QUANTIZED = new Set([
  'MatMulInteger',
  'ConvInteger',
  'DynamicQuantizeLinear',
  'QuantizeLinear',
  'DequantizeLinear',
  'QLinearMatMul',
  'QLinearConv',
  'MatMulIntegerToFloat',
  'DynamicQuantizeMatMul',
]);
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const IMPLEMENTED = new Set<string>(IMPLEMENTED_OP_TYPES);

interface QuantizedValue {
  q: string;
  scale: string;
  zeroPoint: string;
  axis?: number;
}

export interface QuantizeResult {
  file: string;
  dataFile?: string;
  /** Nodes rewritten, by original op type (Gemm counted under Gemm). */
  quantizedNodes: Record<string, number>;
  quantizedWeights: number;
  gemmRewritten: number;
  /** Op types asked for that are in the graph but not implemented here (left in float). */
  unsupported: Record<string, number>;
  bytes: number;
}

function makeNode(opType: string, input: string[], output: string[], name: string, attribute: AttributeProto[] = []): NodeProto {
  return { input, output, ...(name ? { name } : {}), op_type: opType, ...(attribute.length > 0 ? { attribute } : {}) };
}

function attributeValue(node: NodeProto, name: string, fallback: number): number {
  const attribute = (node.attribute ?? []).find((a) => a.name === name);
  if (!attribute) return fallback;
  // decoded messages carry defaults for every field, so the declared type decides which one to read
  if (attribute.type === ATTRIBUTE_FLOAT) return Number(attribute.f ?? fallback);
  if (attribute.type === ATTRIBUTE_INT) return toNumber(attribute.i as number);
  return fallback;
}

function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r += 1) for (let c = 0; c < cols; c += 1) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/** Collects streamed chunks into memory (for tensors that stay inline). */
async function collect(chunks: AsyncIterable<Uint8Array>, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let offset = 0;
  for await (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Dynamic INT8 quantization with the semantics of onnxruntime.quantization.quantize_dynamic:
 * Gemm (alpha = beta = 1, transA = 0) becomes MatMul (+ Add) with a transposed weight; MatMul with a
 * constant float weight becomes DynamicQuantizeLinear + MatMulInteger + Cast + scale Mul; Gather over a
 * float table reads a uint8 table and is dequantized for its consumers. Weights shared by several
 * nodes, and activations read by several MatMuls, are quantized once.
 * Weights are read and written tensor by tensor, in chunks; with external data the output streams
 * into "<out stem>_weights.bin".
 */
export async function quantizeDynamic(input: OnnxFile, outFile: string, options: QuantizeOptions, producerVersion: string): Promise<QuantizeResult> {
  const model = input.model;
  const graph = model.graph!;
  const file = input.file;
  const opset = toNumber((model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
  if (opset < 11) {
    throw new InputError(`opset ${opset} is too old for dynamic quantization (DynamicQuantizeLinear needs opset 11+)`, {
      file,
      hint: 'export with --opset 17',
    });
  }
  const quantizedOps = (graph.node ?? []).filter((node) => ALREADY_QUANTIZED.has(node.op_type ?? '')).map((node) => node.op_type);
  if (quantizedOps.length > 0) {
    throw new InputError(`the model is already quantized (it has ${[...new Set(quantizedOps)].join(', ')} nodes)`, {
      file,
      code: 'ALREADY_QUANTIZED',
      hint: 'quantize the FP32 model instead',
    });
  }

  const initializers = new Map<string, TensorProto>((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const external = new Map<TensorProto, ExternalRange>(input.external);
  const names = new Set<string>([
    ...initializers.keys(),
    ...(graph.input ?? []).map((v) => v.name ?? ''),
    ...(graph.output ?? []).map((v) => v.name ?? ''),
    ...(graph.value_info ?? []).map((v) => v.name ?? ''),
    ...(graph.node ?? []).flatMap((node) => [...(node.input ?? []), ...(node.output ?? [])]),
  ]);
  const result: QuantizeResult = { file: outFile, quantizedNodes: {}, quantizedWeights: 0, gemmRewritten: 0, unsupported: {}, bytes: 0 };
  const originalOp = new Map<NodeProto, string>();

  // 1. Gemm -> MatMul (+ Add), like ONNXModel.replace_gemm_with_matmul
  const afterGemm: NodeProto[] = [];
  const transposed = new Map<string, string>();
  for (const node of graph.node ?? []) {
    if (node.op_type !== 'Gemm') {
      afterGemm.push(node);
      continue;
    }
    const alpha = attributeValue(node, 'alpha', 1);
    const beta = attributeValue(node, 'beta', 1);
    const transA = attributeValue(node, 'transA', 0);
    const transB = attributeValue(node, 'transB', 0);
    if (!(alpha === 1 && beta === 1 && transA === 0)) {
      afterGemm.push(node);
      continue;
    }
    const [a = '', b = '', c] = node.input ?? [];
    let inputB = b;
    if (transB === 1) {
      const weight = initializers.get(b);
      if (weight) {
        if (!transposed.has(b)) {
          const suffixes = ['', '_quantized', '_scale', '_zero_point'];
          let candidate = `${b}_Transposed`;
          for (let n = 1; suffixes.some((s) => names.has(candidate + s)); n += 1) candidate = `${b}_Transposed_${n}`;
          for (const s of suffixes) names.add(candidate + s);
          const source = floatSource(weight, external, file);
          if (source.dims.length !== 2) throw new InputError(`tensor "${b}": a Gemm weight must be 2-D`, { file });
          const values = transpose2d(await readAllFloats(source), source.dims[0]!, source.dims[1]!);
          const tensor: TensorProto = {
            name: candidate,
            dims: [source.dims[1]!, source.dims[0]!],
            data_type: DataType.FLOAT,
            raw_data: new Uint8Array(values.buffer),
          };
          initializers.set(candidate, tensor);
          transposed.set(b, candidate);
        }
        inputB = transposed.get(b)!;
      } else {
        inputB = `${b}_Transposed`;
        afterGemm.push(makeNode('Transpose', [b], [inputB], node.name ? `${node.name}_Transpose` : ''));
      }
    }
    const output = node.output?.[0] ?? '';
    const matmul = makeNode('MatMul', [a, inputB], [output + (c ? '_MatMul' : '')], node.name ? `${node.name}_MatMul` : '');
    originalOp.set(matmul, 'Gemm');
    afterGemm.push(matmul);
    if (c) afterGemm.push(makeNode('Add', [`${output}_MatMul`, c], [...(node.output ?? [])], node.name ? `${node.name}_Add` : ''));
    result.gemmRewritten += 1;
  }

  // 2. quantize node by node, like ONNXQuantizer.quantize_model in IntegerOps mode
  const writeExternal = options.externalData === 'always' || (options.externalData === 'auto' && external.size > 0);
  const location = `${basename(outFile).replace(/\.onnx$/, '')}_weights.bin`;
  const writer = writeExternal ? new ExternalDataWriter(join(dirname(outFile), location), location) : undefined;
  const valueMap = new Map<string, QuantizedValue>();
  const generated = new Set<string>((graph.input ?? []).map((v) => v.name ?? '').filter((name) => !initializers.has(name)));
  const newInitializers: TensorProto[] = [];
  const workspace = new KernelWorkspace(CHUNK_ELEMENTS);
  const nodes: NodeProto[] = [];
  const shouldQuantize = (node: NodeProto) =>
    options.opTypes.includes(node.op_type ?? '') && !options.excludeNodes.includes(node.name ?? '');
  const OTHER_FLOATS = new Set<number>([DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);
  const isFloatInitializer = (name: string) => {
    const tensor = initializers.get(name);
    if (tensor && OTHER_FLOATS.has(tensor.data_type ?? 0)) floatSource(tensor, external, file); // throws: only float32 is supported
    return tensor?.data_type === DataType.FLOAT;
  };

  async function storeQuantized(name: string, weight: QuantizedWeight): Promise<TensorProto> {
    const base: TensorProto = { name, dims: weight.dims, data_type: ONNX_TYPE[weight.type] };
    if (writer && weight.byteLength >= EXTERNAL_THRESHOLD) {
      return { ...base, data_location: EXTERNAL, external_data: await writer.append(weight.data(), weight.byteLength) };
    }
    return { ...base, raw_data: await collect(weight.data(), weight.byteLength) };
  }

  async function quantizeInitializer(name: string, type: QuantType, reduceRange: boolean, channelAxis?: number): Promise<QuantizedValue> {
    const known = valueMap.get(name);
    if (known) return known;
    const tensor = initializers.get(name)!;
    const symmetric = type === options.weightType ? type === 'int8' : false;
    const weight = await quantizeWeight(
      floatSource(tensor, external, file),
      { type, symmetric, reduceRange, ...(channelAxis !== undefined ? { channelAxis } : {}) },
      file,
      workspace,
    );
    const value: QuantizedValue = {
      q: `${name}_quantized`,
      scale: `${name}_scale`,
      zeroPoint: `${name}_zero_point`,
      ...(weight.channelAxis !== undefined ? { axis: weight.channelAxis } : {}),
    };
    const shape = weight.channelAxis !== undefined ? [weight.dims[weight.channelAxis]!] : [];
    newInitializers.push(
      { name: value.scale, dims: shape, data_type: DataType.FLOAT, float_data: weight.scales },
      { name: value.zeroPoint, dims: shape, data_type: ONNX_TYPE[type], int32_data: weight.zeroPoints },
      await storeQuantized(value.q, weight),
    );
    valueMap.set(name, value);
    result.quantizedWeights += 1;
    return value;
  }

  function quantizeActivation(name: string, emit: NodeProto[]): QuantizedValue {
    const known = valueMap.get(name);
    if (known) return known;
    const value = { q: `${name}_quantized`, scale: `${name}_scale`, zeroPoint: `${name}_zero_point` };
    emit.push(makeNode('DynamicQuantizeLinear', [name], [value.q, value.scale, value.zeroPoint], `${name}_QuantizeLinear`));
    valueMap.set(name, value);
    return value;
  }

  function dequantize(name: string): NodeProto | undefined {
    const value = valueMap.get(name);
    if (!value || generated.has(name)) return undefined;
    const nodeName = `${name}_DequantizeLinear`;
    if (nodes.some((node) => node.name === nodeName)) return undefined;
    const axis = value.axis !== undefined ? [{ name: 'axis', type: ATTRIBUTE_INT, i: value.axis }] : [];
    return makeNode('DequantizeLinear', [value.q, value.scale, value.zeroPoint], [name], nodeName, axis);
  }

  const count = (node: NodeProto) => {
    const op = originalOp.get(node) ?? node.op_type ?? '';
    result.quantizedNodes[op] = (result.quantizedNodes[op] ?? 0) + 1;
  };

  for (const node of afterGemm) {
    const emit: NodeProto[] = [];
    const [a = '', b = ''] = node.input ?? [];
    if (node.op_type === 'MatMul' && shouldQuantize(node) && isFloatInitializer(b)) {
      const activation = isFloatInitializer(a) ? await quantizeInitializer(a, 'uint8', false) : quantizeActivation(a, emit);
      const weight = await quantizeInitializer(b, options.weightType, options.reduceRange, options.perChannel ? -1 : undefined);
      const output = node.output?.[0] ?? '';
      const integerName = node.name ? `${node.name}_quant` : '';
      const integerOutput = `${output}_output_quantized`;
      emit.push(makeNode('MatMulInteger', [activation.q, weight.q, activation.zeroPoint, weight.zeroPoint], [integerOutput], integerName));
      emit.push(
        makeNode('Cast', [integerOutput], [`${integerOutput}_cast_output`], `${integerOutput}_cast`, [
          { name: 'to', type: ATTRIBUTE_INT, i: DataType.FLOAT },
        ]),
      );
      const scalesName = integerName ? `${integerName}_scales_mul` : `${activation.scale}_${weight.scale}_mul`;
      let scalesNode = nodes.find((n) => n.name === scalesName) ?? emit.find((n) => n.name === scalesName);
      if (!scalesNode) {
        scalesNode = makeNode('Mul', [activation.scale, weight.scale], [`${scalesName}:0`], scalesName);
        emit.push(scalesNode);
      }
      emit.push(
        makeNode('Mul', [`${integerOutput}_cast_output`, scalesNode.output![0]!], [output], integerName ? `${integerName}_output_scale_mul` : ''),
      );
      count(node);
    } else if (node.op_type === 'Gather' && shouldQuantize(node) && isFloatInitializer(a)) {
      const table = await quantizeInitializer(a, 'uint8', false);
      const output = node.output?.[0] ?? '';
      valueMap.set(output, { q: `${output}_quantized`, scale: table.scale, zeroPoint: table.zeroPoint });
      emit.push({ ...node, input: [table.q, ...(node.input ?? []).slice(1)], output: [`${output}_quantized`, ...(node.output ?? []).slice(1)] });
      count(node);
    } else {
      if (options.opTypes.includes(node.op_type ?? '') && !(IMPLEMENTED.has(node.op_type ?? '') || node.op_type === 'Transpose')) {
        result.unsupported[node.op_type!] = (result.unsupported[node.op_type!] ?? 0) + 1;
      }
      for (const name of node.input ?? []) {
        const dq = dequantize(name);
        if (dq) emit.push(dq);
      }
      emit.push(node);
    }
    nodes.push(...emit);
    for (const n of emit) for (const output of n.output ?? []) generated.add(output);
  }
  for (const output of graph.output ?? []) {
    const dq = dequantize(output.name ?? '');
    if (dq) nodes.push(dq);
  }
  if (Object.keys(result.quantizedNodes).length === 0) {
    await writer?.close();
    if (writer) await rm(writer.path, { force: true });
    throw new InputError('nothing to quantize: no MatMul with a constant float weight, Gemm, or Gather over a float table', {
      file,
      code: 'NOTHING_TO_QUANTIZE',
      hint: 'check --op-types and --exclude-nodes',
    });
  }

  // 3. keep only initializers still read (onnx_model.clean_initializers), then write
  const used = new Set<string>([...nodes.flatMap(nodeInputs), ...(graph.output ?? []).map((v) => v.name ?? '')]);
  const kept: TensorProto[] = [];
  for (const tensor of [...initializers.values(), ...newInitializers]) {
    if (!used.has(tensor.name ?? '')) continue;
    const range = external.get(tensor);
    if (writer && (range || (tensor.raw_data?.length ?? 0) >= EXTERNAL_THRESHOLD) && tensor.data_location !== EXTERNAL) {
      kept.push({ ...stripExternal(tensor), data_location: EXTERNAL, external_data: await writer.append(range ?? tensor.raw_data!) });
    } else if (range) {
      kept.push({ ...stripExternal(tensor), raw_data: await readExternalBytes(range) });
    } else kept.push(tensor);
  }
  const dataBytes = writer ? await writer.close() : 0;
  const out: ModelProto = {
    ...model,
    producer_name: 'rapidfit-export.quantize',
    producer_version: producerVersion,
    graph: { ...graph, node: nodes, initializer: kept },
  };
  const bytes = encodeModel(out);
  const partial = `${outFile}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, outFile);
  result.bytes = bytes.length + dataBytes;
  if (writer) result.dataFile = writer.path;
  return result;
}
