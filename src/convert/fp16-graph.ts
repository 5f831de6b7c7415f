import { InputError } from '../errors.js';
import {
  toNumber,
  type GraphProto,
  type Int64,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../onnx/proto.js';
import { DataType } from '../onnx/tensor.js';
import {
  ATTRIBUTE_TENSOR,
  cast,
  elemType,
  FLOAT32_OPS,
  floatTensorAttribute,
  halfTensorInline,
  isFloatListConstant,
  withElemType,
} from './fp16-nodes.js';

export interface Float16Graph {
  graph: GraphProto;
  /** The float32 initializers to store as float16 (the others are kept as they are). */
  halfInitializers: Set<TensorProto>;
  /** Nodes left in float32, by op type. */
  float32Nodes: Record<string, number>;
}

/** Which values a conversion makes float16, which nodes it keeps in float32, and the boundary's renames. */
interface Float16Plan {
  isFloat(name: string): boolean;
  /** A float32 value that becomes float16. */
  isHalf(name: string): boolean;
  /** A node left in float32 (Casts around it). */
  blocked(node: NodeProto): boolean;
  /** Float32 sources (graph inputs and outputs, weights and Constants read only by kept nodes) left as they are. */
  keptFloat: Set<string>;
  graphInputs: Set<string>;
  /** Graph inputs and outputs -> their float16 values inside the graph. */
  renamed: Map<string, string>;
}

/** The element type of every value; refuses graphs the conversion cannot rewrite (subgraphs, untyped values, IR < 4). */
function valueTypes(graph: GraphProto, file: string): Map<string, number> {
  const nodes = graph.node ?? [];
  if (nodes.some((node) => (node.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0)))) {
    throw new InputError('fp16: graphs with subgraphs (If, Loop, Scan) are not supported', { file });
  }
  const types = new Map<string, number>();
  for (const value of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.value_info ?? [])])
    types.set(value.name ?? '', elemType(value) ?? 0);
  for (const tensor of graph.initializer ?? []) types.set(tensor.name ?? '', tensor.data_type ?? 0);
  for (const node of nodes) {
    const untyped = (node.output ?? []).find((output) => output && !types.has(output));
    if (untyped) {
      throw new InputError(
        `fp16: value "${untyped}" (output of ${node.op_type} "${node.name ?? ''}") has no type; the conversion needs ONNX shape inference's value_info`,
        { file, hint: 'run onnx.shape_inference.infer_shapes on the model first' },
      );
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
  return types;
}

function planFloat16(graph: GraphProto, types: Map<string, number>, keep: ReadonlySet<string>): Float16Plan {
  const nodes = graph.node ?? [];
  const isFloat = (name: string) => types.get(name) === DataType.FLOAT;
  const blocked = (node: NodeProto) => keep.has(node.op_type ?? '') || isFloatListConstant(node);
  // float32 sources (initializers, Constant values) read by at least one float16 node become float16
  const constants = nodes
    .filter((node) => node.op_type === 'Constant' && floatTensorAttribute(node))
    .map((node) => node.output![0]!);
  const readByHalf = new Set(nodes.filter((node) => !blocked(node)).flatMap((node) => node.input ?? []));
  const keptFloat = new Set<string>([
    ...(graph.input ?? []).map((value) => value.name ?? ''),
    ...(graph.output ?? []).map((value) => value.name ?? ''),
    ...[...(graph.initializer ?? []).map((tensor) => tensor.name ?? ''), ...constants].filter(
      (n) => !readByHalf.has(n),
    ),
  ]);
  const isHalf = (name: string) => isFloat(name) && !keptFloat.has(name);
  const graphInputs = new Set((graph.input ?? []).map((value) => value.name ?? ''));
  return { isFloat, isHalf, blocked, keptFloat, graphInputs, renamed: new Map() };
}

/** Float graph inputs and outputs stay float32: a Cast after each input (head), before each output (tail). */
function boundaryCasts(graph: GraphProto, plan: Float16Plan) {
  const head: NodeProto[] = [];
  const tail: NodeProto[] = [];
  const valueInfo: ValueInfoProto[] = [];
  for (const input of graph.input ?? []) {
    if (!plan.isFloat(input.name ?? '')) continue;
    const half = `${input.name}_fp16`;
    plan.renamed.set(input.name!, half);
    head.push(cast(input.name!, half, DataType.FLOAT16));
    valueInfo.push(withElemType(input, DataType.FLOAT16, half));
  }
  const producedByKept = new Set(
    (graph.node ?? []).filter((node) => plan.blocked(node)).flatMap((node) => node.output ?? []),
  );
  for (const output of graph.output ?? []) {
    if (!plan.isFloat(output.name ?? '') || producedByKept.has(output.name ?? '')) continue;
    const half = `${output.name}_fp16`;
    plan.renamed.set(output.name!, half);
    tail.push(cast(half, output.name!, DataType.FLOAT));
    valueInfo.push(withElemType(output, DataType.FLOAT16, half));
  }
  return { head, tail, valueInfo };
}

/** A node kept in float32: its float16 inputs cast to float32 (one Cast per value), its outputs cast back. */
function keptNode(node: NodeProto, plan: Float16Plan, toFloat: Map<string, string>): NodeProto[] {
  const name = (value: string) => plan.renamed.get(value) ?? value;
  const before: NodeProto[] = [];
  const castInputs = (node.input ?? []).map((original) => {
    // a float graph input is read as it comes (float32); anything else float16 is cast back
    if (!original || plan.graphInputs.has(original)) return original;
    const value = name(original);
    if (!(plan.isHalf(original) || plan.renamed.has(original))) return value;
    let float = toFloat.get(value);
    if (!float) {
      float = `${value}_fp32`;
      toFloat.set(value, float);
      before.push(cast(value, float, DataType.FLOAT));
    }
    return float;
  });
  const after: NodeProto[] = [];
  const castOutputs = (node.output ?? []).map(name).map((value, index) => {
    if (!value || !plan.isHalf(node.output![index]!)) return value;
    // kept consumers of this value read the float32 original, not a second Cast of the float16 one
    toFloat.set(value, `${value}_fp32`);
    after.push(cast(`${value}_fp32`, value, DataType.FLOAT16));
    return `${value}_fp32`;
  });
  return [...before, { ...node, input: castInputs, output: castOutputs }, ...after];
}

/** A node computing in float16: Casts to float32 now cast to float16, its float tensor attributes are halved. */
function halfNode(node: NodeProto, plan: Float16Plan): NodeProto {
  const name = (value: string) => plan.renamed.get(value) ?? value;
  const keptConstant = node.op_type === 'Constant' && plan.keptFloat.has(node.output![0]!);
  const attribute = (node.attribute ?? []).map((a) => {
    if (node.op_type === 'Cast' && a.name === 'to' && toNumber(a.i as Int64) === DataType.FLOAT)
      return { ...a, i: DataType.FLOAT16 };
    if (!keptConstant && a.type === ATTRIBUTE_TENSOR && (a.t as TensorProto | undefined)?.data_type === DataType.FLOAT)
      return { ...a, t: halfTensorInline(a.t as TensorProto) };
    return a;
  });
  if (
    node.op_type === 'ConstantOfShape' &&
    plan.isHalf(node.output![0]!) &&
    !attribute.some((a) => a.name === 'value')
  ) {
    attribute.push({
      name: 'value',
      type: ATTRIBUTE_TENSOR,
      t: { dims: [1], data_type: DataType.FLOAT16, raw_data: new Uint8Array(2) },
    });
  }
  return {
    ...node,
    input: (node.input ?? []).map(name),
    output: (node.output ?? []).map(name),
    ...(attribute.length > 0 ? { attribute } : {}),
  };
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
  const plan = planFloat16(graph, valueTypes(graph, file), keep);
  const { head, tail, valueInfo } = boundaryCasts(graph, plan);
  const toFloat = new Map<string, string>();
  const float32Nodes: Record<string, number> = {};
  const body = (graph.node ?? []).flatMap((node) => {
    if (!plan.blocked(node)) return [halfNode(node, plan)];
    float32Nodes[node.op_type ?? ''] = (float32Nodes[node.op_type ?? ''] ?? 0) + 1;
    return keptNode(node, plan, toFloat);
  });
  const halfInitializers = new Set(
    (graph.initializer ?? []).filter(
      (tensor) => tensor.data_type === DataType.FLOAT && !plan.keptFloat.has(tensor.name ?? ''),
    ),
  );
  const values = (graph.value_info ?? []).map((value) =>
    plan.isHalf(value.name ?? '') ? withElemType(value, DataType.FLOAT16) : value,
  );
  return {
    graph: { ...graph, node: [...head, ...body, ...tail], value_info: [...values, ...valueInfo] },
    halfInitializers,
    float32Nodes,
  };
}
