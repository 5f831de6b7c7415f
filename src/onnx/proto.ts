import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../paths.js';

/** Plain-object view of the ONNX messages this tool touches (snake_case, as in onnx.proto). */
export interface Long {
  toNumber(): number;
  toString(): string;
}
export type Int64 = number | Long;

export interface TensorProto {
  name?: string;
  dims?: Int64[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  uint64_data?: Int64[];
  string_data?: Uint8Array[];
  data_location?: number;
  external_data?: Array<{ key?: string; value?: string }>;
  doc_string?: string;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  g?: GraphProto;
  graphs?: GraphProto[];
  [field: string]: unknown;
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
  [field: string]: unknown;
}

export interface ValueInfoProto {
  name?: string;
  type?: unknown;
  doc_string?: string;
  [field: string]: unknown;
}

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparse_initializer?: unknown[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  [field: string]: unknown;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProto;
  metadata_props?: StringStringEntryProto[];
  [field: string]: unknown;
}

export const ONNX_PROTO_FILE = join(PACKAGE_ROOT, 'src', 'onnx', 'onnx-ml.proto');

let root: protobuf.Root | undefined;

export function onnxRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.parse(readFileSync(ONNX_PROTO_FILE, 'utf8'), { keepCase: true }).root;
    root.resolveAll();
  }
  return root;
}

export function modelType(): protobuf.Type {
  return onnxRoot().lookupType('onnx.ModelProto');
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return modelType().decode(bytes) as unknown as ModelProto;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return modelType().encode(model).finish();
}

export function toNumber(value: Int64 | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
