import protobuf from 'protobufjs';
import { onnxRoot } from './proto.js';

export interface UnknownField {
  /** Dotted path of message types from ModelProto down, e.g. "ModelProto.graph.initializer". */
  path: string;
  type: string;
  fieldNumber: number;
  wireType: number;
}

const WIRE_FOR: Record<string, number> = {
  double: 1,
  fixed64: 1,
  sfixed64: 1,
  float: 5,
  fixed32: 5,
  sfixed32: 5,
  string: 2,
  bytes: 2,
};

function expectedWireTypes(field: protobuf.Field): number[] {
  if (field.resolvedType instanceof protobuf.Type) return [2];
  const scalar = WIRE_FOR[field.type] ?? 0; // varint for ints, bools and enums
  // repeated scalars may be packed (wire type 2) or not, whatever the .proto says
  return field.repeated && scalar !== 2 ? [scalar, 2] : [scalar];
}

/** A `string` field whose bytes are not UTF-8: protobufjs would decode it with U+FFFD, and a rewrite would change it. */
export interface InvalidString {
  /** Dotted path to the field, e.g. "ModelProto.graph.node.name". */
  path: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Walks the protobuf wire format of `bytes` against the ONNX schema and lists every field the schema
 * does not know (or knows with another wire type). protobufjs would silently drop those on decode,
 * so callers refuse such files instead of rewriting them with data missing.
 */
export function findUnknownFields(bytes: Uint8Array, typeName = 'onnx.ModelProto', limit = 20): UnknownField[] {
  return checkWire(bytes, typeName, limit).unknown;
}

/**
 * The same walk, also listing `string` fields that are not valid UTF-8. Throws protobufjs's RangeError
 * when a length runs past its message (a truncated or corrupt file).
 */
export function checkWire(
  bytes: Uint8Array,
  typeName = 'onnx.ModelProto',
  limit = 20,
): { unknown: UnknownField[]; invalidStrings: InvalidString[] } {
  const found: UnknownField[] = [];
  const invalidStrings: InvalidString[] = [];
  const walk = (buffer: Uint8Array, type: protobuf.Type, path: string) => {
    const reader = protobuf.Reader.create(buffer);
    while (reader.pos < reader.len && found.length < limit) {
      const tag = reader.uint32();
      const fieldNumber = tag >>> 3;
      const wireType = tag & 7;
      const field = type.fieldsById[fieldNumber];
      if (!field || !expectedWireTypes(field).includes(wireType)) {
        found.push({ path, type: type.name, fieldNumber, wireType });
        if (wireType === 3 || wireType === 4 || wireType > 5) return; // groups or garbage: cannot skip safely
        reader.skipType(wireType);
        continue;
      }
      if (field.resolvedType instanceof protobuf.Type) {
        const length = reader.uint32();
        const start = reader.pos;
        walk(buffer.subarray(start, start + length), field.resolvedType, `${path}.${field.name}`);
        reader.pos = start + length;
      } else if (field.type === 'string' && invalidStrings.length < limit) {
        const text = reader.bytes();
        try {
          utf8.decode(text);
        } catch {
          invalidStrings.push({ path: `${path}.${field.name}` });
        }
      } else {
        reader.skipType(wireType);
      }
    }
  };
  const root = onnxRoot();
  const type = root.lookupType(typeName);
  walk(bytes, type, type.name);
  return { unknown: found, invalidStrings };
}
