import type { GraphProto, ModelProto, TensorProto } from '../../src/onnx/proto.js';

const FLOAT = 1;

export function floatTensor(name: string, values: number[], dims = [values.length]): TensorProto {
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(new Float32Array(values).buffer) };
}

export function externalTensor(
  name: string,
  dims: number[],
  location: string,
  offset?: number,
  length?: number,
): TensorProto {
  return {
    name,
    dims,
    data_type: FLOAT,
    data_location: 1,
    external_data: [
      { key: 'location', value: location },
      ...(offset !== undefined ? [{ key: 'offset', value: String(offset) }] : []),
      ...(length !== undefined ? [{ key: 'length', value: String(length) }] : []),
    ],
  };
}

export function valueInfo(name: string, dims: Array<number | string>) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: FLOAT,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })) },
      },
    },
  };
}

/** A model (IR 8, opset 17) around one graph. */
export function modelOf(graph: GraphProto): ModelProto {
  return { ir_version: 8, opset_import: [{ domain: '', version: 17 }], producer_name: 'rapidfit-export-test', graph };
}

/** y = x @ w + b, with w [k, n]: the smallest graph that has weights worth moving. */
export function matmulModel(w: TensorProto, b: TensorProto, k: number, n: number): ModelProto {
  return modelOf({
    name: 'matmul',
    node: [
      { op_type: 'MatMul', input: ['x', w.name!], output: ['xw'], name: 'mm' },
      { op_type: 'Add', input: ['xw', b.name!], output: ['y'], name: 'add' },
    ],
    initializer: [w, b],
    input: [valueInfo('x', ['batch', k])],
    output: [valueInfo('y', ['batch', n])],
  });
}
