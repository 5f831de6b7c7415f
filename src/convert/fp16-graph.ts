import { InputError } from '../errors.js';
import {
  toNumber,
  type AttributeProto,
  type GraphProto,
  type Int64,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../onnx/proto.js';
import { DataType } from '../onnx/tensor.js';
import { toHalf } from './half.js';

/**
 * Op types left in float32 in an FP16 graph, with Casts around them. The numerically sensitive ones
 * (normalisations, softmax, reductions, powers and roots, exp/log), which onnxconverter-common's
 * auto-mixed-precision and ORT's transformers optimizer keep in float32 too, plus the ops
 * onnxconverter-common's DEFAULT_OP_BLOCK_LIST names that our encoders can contain (no float16 kernels).
 */
export const FLOAT32_OPS: ReadonlySet<string> = new Set([
  'LayerNormalization',
  'SkipLayerNormalization',
  'SimplifiedLayerNormalization',
  'Softmax',
  'LogSoftmax',
  'ReduceMean',
  'ReduceSum',
  'ReduceSumSquare',
  'ReduceL2',
  'Pow',
  'Sqrt',
  'Reciprocal',
  'Exp',
  'Log',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'TopK',
]);

const ATTRIBUTE_INT = 2;
const ATTRIBUTE_TENSOR = 4;

interface TypeView {
  tensor_type?: { elem_type?: number; [key: string]: unknown };
  [key: string]: unknown;
}

function elemType(value: ValueInfoProto): number | undefined {
  return (value.type as TypeView | undefined)?.tensor_type?.elem_type;
}

function withElemType(value: ValueInfoProto, type: number, name = value.name): ValueInfoProto {
  const view = value.type as TypeView;
  return { ...value, name, type: { ...view, tensor_type: { ...view.tensor_type, elem_type: type } } };
}

function cast(input: string, output: string, to: number): NodeProto {
  return {
    input: [input],
    output: [output],
    name: `${output}_Cast`,
    op_type: 'Cast',
    attribute: [{ name: 'to', type: ATTRIBUTE_INT, i: to }],
  };
}

/** A float32 tensor held in the graph itself (a Constant's value) as float16: small, converted in memory. */
export function halfTensorInline(tensor: TensorProto): TensorProto {
  const floats =
    tensor.float_data && tensor.float_data.length > 0
      ? Float32Array.from(tensor.float_data)
      : new Float32Array(Uint8Array.from(tensor.raw_data ?? new Uint8Array()).buffer);
  const half = new Uint16Array(floats.length);
  toHalf(floats, half);
  const { float_data: _floats, raw_data: _raw, ...rest } = tensor;
  return { ...rest, data_type: DataType.FLOAT16, raw_data: new Uint8Array(half.buffer) };
}

function floatTensorAttribute(node: NodeProto): AttributeProto | undefined {
  return (node.attribute ?? []).find(
    (a) =>
      a.name === 'value' &&
      a.type === ATTRIBUTE_TENSOR &&
      (a.t as TensorProto | undefined)?.data_type === DataType.FLOAT,
  );
}

/** A Constant that yields a float32 value from a scalar/list attribute (value_float, value_floats): kept as is. */
function isFloatListConstant(node: NodeProto): boolean {
  return (
    node.op_type === 'Constant' &&
    (node.attribute ?? []).some((a) => a.name === 'value_float' || a.name === 'value_floats')
  );
}

export interface Float16Graph {
  graph: GraphProto;
  /** The float32 initializers to store as float16 (the others are kept as they are). */
  halfInitializers: Set<TensorProto>;
  /** Nodes left in float32, by op type. */
  float32Nodes: Record<string, number>;
}

/**
 * Rewrites a float32 graph to compute in float16, as onnxconverter-common's
 * `convert_float_to_float16(keep_io_types=True)` does: every float32 value becomes float16, except
 * the graph's float inputs and outputs (Cast at the boundary, so callers feed and read float32) and
 * the nodes of `keep` (Casts to float32 before them and back after). A weight or Constant read only
 * by kept nodes stays float32. Needs the type of every value (ONNX shape inference's value_info,
 * which our exporter writes); a graph without it, or with subgraphs, is refused.
 */
export function float16Graph(graph: GraphProto, file: string, keep: ReadonlySet<string> = FLOAT32_OPS): Float16Graph {
  const nodes = graph.node ?? [];
  if (nodes.some((node) => (node.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0)))) {
    throw new InputError('fp16: graphs with subgraphs (If, Loop, Scan) are not supported', { file });
  }
  const types = new Map<string, number>();
  for (const value of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.value_info ?? [])])
    types.set(value.name ?? '', elemType(value) ?? 0);
  for (const tensor of graph.initializer ?? []) types.set(tensor.name ?? '', tensor.data_type ?? 0);
  for (const node of nodes) {
    for (const output of node.output ?? []) {
      if (output && !types.has(output)) {
        throw new InputError(
          `fp16: value "${output}" (output of ${node.op_type} "${node.name ?? ''}") has no type; the conversion needs ONNX shape inference's value_info`,
          {
            file,
            hint: 'run onnx.shape_inference.infer_shapes on the model first',
          },
        );
      }
    }
  }
  const initializerNames = new Set((graph.initializer ?? []).map((tensor) => tensor.name ?? ''));
  const listedAsInput = (graph.input ?? []).find((value) => initializerNames.has(value.name ?? ''));
  if (listedAsInput) {
    throw new InputError(
      `fp16: initializer "${listedAsInput.name}" is also a graph input (IR < 4 layout), which this converter does not rewrite`,
      { file },
    );
  }
  const isFloat = (name: string) => types.get(name) === DataType.FLOAT;
  const blocked = (node: NodeProto) => keep.has(node.op_type ?? '') || isFloatListConstant(node);

  // float32 sources (initializers, Constant values) read by at least one float16 node become float16
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const constants = new Set(
    nodes.filter((node) => node.op_type === 'Constant' && floatTensorAttribute(node)).map((node) => node.output![0]!),
  );
  const readByHalf = new Set<string>();
  for (const node of nodes) if (!blocked(node)) for (const input of node.input ?? []) readByHalf.add(input);
  const keptFloat = new Set<string>([
    ...(graph.input ?? []).map((value) => value.name ?? ''),
    ...(graph.output ?? []).map((value) => value.name ?? ''),
    ...[...initializers.keys(), ...constants].filter((name) => !readByHalf.has(name)),
  ]);
  const isHalf = (name: string) => isFloat(name) && !keptFloat.has(name);

  // float graph inputs and outputs stay float32: a Cast after each input, before each output
  const renamed = new Map<string, string>();
  const head: NodeProto[] = [];
  const tail: NodeProto[] = [];
  const valueInfo: ValueInfoProto[] = [];
  for (const input of graph.input ?? []) {
    if (!isFloat(input.name ?? '')) continue;
    const half = `${input.name}_fp16`;
    renamed.set(input.name!, half);
    head.push(cast(input.name!, half, DataType.FLOAT16));
    valueInfo.push(withElemType(input, DataType.FLOAT16, half));
  }
  const producedByKept = new Set(nodes.filter(blocked).flatMap((node) => node.output ?? []));
  for (const output of graph.output ?? []) {
    if (!isFloat(output.name ?? '') || producedByKept.has(output.name ?? '')) continue;
    const half = `${output.name}_fp16`;
    renamed.set(output.name!, half);
    tail.push(cast(half, output.name!, DataType.FLOAT));
    valueInfo.push(withElemType(output, DataType.FLOAT16, half));
  }
  const name = (value: string) => renamed.get(value) ?? value;
  const graphInputs = new Set((graph.input ?? []).map((value) => value.name ?? ''));

  const out: NodeProto[] = [...head];
  const toFloat = new Map<string, string>();
  const float32Nodes: Record<string, number> = {};
  for (const node of nodes) {
    const input = (node.input ?? []).map(name);
    const output = (node.output ?? []).map(name);
    if (blocked(node)) {
      float32Nodes[node.op_type ?? ''] = (float32Nodes[node.op_type ?? ''] ?? 0) + 1;
      const castInputs = (node.input ?? []).map((original) => {
        // a float graph input is read as it comes (float32); anything else float16 is cast back
        if (!original || graphInputs.has(original)) return original;
        const value = name(original);
        if (!(isHalf(original) || renamed.has(original))) return value;
        let float = toFloat.get(value);
        if (!float) {
          float = `${value}_fp32`;
          toFloat.set(value, float);
          out.push(cast(value, float, DataType.FLOAT));
        }
        return float;
      });
      const after: NodeProto[] = [];
      const castOutputs = output.map((value, index) => {
        const original = node.output![index]!;
        if (!value || !isHalf(original)) return value;
        // kept consumers of this value read the float32 original, not a second Cast of the float16 one
        toFloat.set(value, `${value}_fp32`);
        after.push(cast(`${value}_fp32`, value, DataType.FLOAT16));
        return `${value}_fp32`;
      });
      out.push({ ...node, input: castInputs, output: castOutputs }, ...after);
      continue;
    }
    const keptConstant = node.op_type === 'Constant' && keptFloat.has(node.output![0]!);
    const attribute = (node.attribute ?? []).map((a) => {
      if (node.op_type === 'Cast' && a.name === 'to' && toNumber(a.i as Int64) === DataType.FLOAT)
        return { ...a, i: DataType.FLOAT16 };
      if (
        !keptConstant &&
        a.type === ATTRIBUTE_TENSOR &&
        (a.t as TensorProto | undefined)?.data_type === DataType.FLOAT
      )
        return { ...a, t: halfTensorInline(a.t as TensorProto) };
      return a;
    });
    if (node.op_type === 'ConstantOfShape' && isHalf(node.output![0]!) && !attribute.some((a) => a.name === 'value')) {
      attribute.push({
        name: 'value',
        type: ATTRIBUTE_TENSOR,
        t: { dims: [1], data_type: DataType.FLOAT16, raw_data: new Uint8Array(2) },
      });
    }
    out.push({ ...node, input, output, ...(attribute.length > 0 ? { attribute } : {}) });
  }
  out.push(...tail);

  const halfInitializers = new Set(
    [...initializers.values()].filter(
      (tensor) => tensor.data_type === DataType.FLOAT && !keptFloat.has(tensor.name ?? ''),
    ),
  );
  const values = (graph.value_info ?? []).map((value) =>
    isHalf(value.name ?? '') ? withElemType(value, DataType.FLOAT16) : value,
  );
  return { graph: { ...graph, node: out, value_info: [...values, ...valueInfo] }, halfInitializers, float32Nodes };
}
