import { basename } from 'node:path';
import type { OnnxFile } from './model-file.js';
import { toNumber, type ValueInfoProto } from './proto.js';
import { DataType } from './tensor.js';

const TYPE_NAMES = Object.fromEntries(Object.entries(DataType).map(([name, value]) => [value, name.toLowerCase()]));

interface TypeView {
  tensor_type?: { elem_type?: number; shape?: { dim?: Array<{ dim_value?: unknown; dim_param?: string }> } };
}

/** A tensor value's shape: numbers for fixed dims, names for dynamic ones, "?" for unknown. */
export function valueShape(value: ValueInfoProto): Array<string | number> {
  return ((value.type as TypeView | undefined)?.tensor_type?.shape?.dim ?? []).map((dim) =>
    dim.dim_param ? dim.dim_param : dim.dim_value !== undefined ? toNumber(dim.dim_value as number) : '?',
  );
}

function describeValue(value: ValueInfoProto): { name: string; type: string; shape: Array<string | number> } {
  const elemType = (value.type as TypeView | undefined)?.tensor_type?.elem_type;
  return {
    name: value.name ?? '',
    type: TYPE_NAMES[elemType ?? 0] ?? `type ${elemType ?? '?'}`,
    shape: valueShape(value),
  };
}

export interface OnnxSummary {
  file: string;
  irVersion: number;
  opsets: Record<string, number>;
  producer: string;
  inputs: ReturnType<typeof describeValue>[];
  outputs: ReturnType<typeof describeValue>[];
  nodes: number;
  opTypes: Record<string, number>;
  initializers: number;
  inlineBytes: number;
  externalBytes: Record<string, number>;
  protobufBytes: number;
  metadata: Record<string, string>;
}

export function summarizeOnnx(onnx: OnnxFile): OnnxSummary {
  const { model } = onnx;
  const graph = model.graph!;
  const opTypes: Record<string, number> = {};
  for (const node of graph.node ?? []) {
    const key = node.domain ? `${node.domain}.${node.op_type ?? ''}` : (node.op_type ?? '');
    opTypes[key] = (opTypes[key] ?? 0) + 1;
  }
  const externalBytes: Record<string, number> = {};
  let inlineBytes = 0;
  for (const tensor of graph.initializer ?? []) {
    const range = onnx.external.get(tensor);
    if (range) externalBytes[range.location] = (externalBytes[range.location] ?? 0) + range.length;
    else inlineBytes += tensor.raw_data?.length ?? 0;
  }
  return {
    file: onnx.file,
    irVersion: toNumber(model.ir_version),
    opsets: Object.fromEntries(
      (model.opset_import ?? []).map((opset) => [opset.domain || 'ai.onnx', toNumber(opset.version)]),
    ),
    producer: `${model.producer_name ?? ''} ${model.producer_version ?? ''}`.trim(),
    inputs: (graph.input ?? []).map(describeValue),
    outputs: (graph.output ?? []).map(describeValue),
    nodes: graph.node?.length ?? 0,
    opTypes: Object.fromEntries(Object.entries(opTypes).sort((a, b) => b[1] - a[1])),
    initializers: graph.initializer?.length ?? 0,
    inlineBytes,
    externalBytes,
    protobufBytes: onnx.protobufBytes,
    metadata: Object.fromEntries((model.metadata_props ?? []).map((entry) => [entry.key ?? '', entry.value ?? ''])),
  };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function describeOnnx(summary: OnnxSummary): string {
  const io = (values: OnnxSummary['inputs']) =>
    values.map((v) => `${v.name}: ${v.type}[${v.shape.join(', ')}]`).join('; ');
  const lines = [
    `file         ${summary.file} (${mb(summary.protobufBytes)} protobuf)`,
    `ir / opsets  IR ${summary.irVersion}; ${Object.entries(summary.opsets)
      .map(([d, v]) => `${d} ${v}`)
      .join(', ')}`,
    `producer     ${summary.producer || 'unknown'}`,
    `inputs       ${io(summary.inputs)}`,
    `outputs      ${io(summary.outputs)}`,
    `nodes        ${summary.nodes}: ${Object.entries(summary.opTypes)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')}`,
    `initializers ${summary.initializers}; inline ${mb(summary.inlineBytes)}${Object.entries(summary.externalBytes)
      .map(([file, bytes]) => `; external ${basename(file)} ${mb(bytes)}`)
      .join('')}`,
  ];
  if (Object.keys(summary.metadata).length > 0) {
    lines.push(
      `metadata     ${Object.entries(summary.metadata)
        .map(([k, v]) => `${k}=${v.length > 60 ? `${v.slice(0, 57)}...` : v}`)
        .join('; ')}`,
    );
  }
  return lines.join('\n');
}
