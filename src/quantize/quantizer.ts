import { dirname, join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { ExternalRange } from '../onnx/external-data.js';
import { readExternalBytes } from '../onnx/external-data.js';
import {
  dataLocation,
  ExternalDataWriter,
  EXTERNAL_THRESHOLD,
  stripExternal,
  type OnnxFile,
} from '../onnx/model-file.js';
import { nodeInputs } from '../onnx/graph.js';
import { toNumber, type AttributeProto, type NodeProto, type TensorProto } from '../onnx/proto.js';
import { DataType, elementCount, EXTERNAL } from '../onnx/tensor.js';
import { CHUNK_ELEMENTS, floatSource, type FloatSource } from './float-source.js';
import { ONNX_TYPE, type QuantType } from './math.js';
import type { MatMulMethod, QuantizeOptions } from './options.js';
import { quantizeWeight, type QuantizedWeight } from './weight.js';
import { KernelWorkspace } from './kernel-workspace.js';

const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const OTHER_FLOATS = new Set<number>([DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/** A quantized tensor: its integer values, scale and zero point (names in the graph). */
export interface QuantizedValue {
  q: string;
  scale: string;
  zeroPoint: string;
  axis?: number;
}

export function makeNode(
  opType: string,
  input: string[],
  output: string[],
  name: string,
  attribute: AttributeProto[] = [],
): NodeProto {
  return { input, output, ...(name ? { name } : {}), op_type: opType, ...(attribute.length > 0 ? { attribute } : {}) };
}

export function intAttribute(name: string, value: number): AttributeProto {
  return { name, type: ATTRIBUTE_INT, i: value };
}

export function stringAttribute(name: string, value: string): AttributeProto {
  return { name, type: ATTRIBUTE_STRING, s: new TextEncoder().encode(value) };
}

export function attributeValue(node: NodeProto, name: string, fallback: number): number {
  const attribute = (node.attribute ?? []).find((a) => a.name === name);
  if (!attribute) return fallback;
  // decoded messages carry defaults for every field, so the declared type decides which one to read
  if (attribute.type === ATTRIBUTE_FLOAT) return Number(attribute.f ?? fallback);
  if (attribute.type === ATTRIBUTE_INT) return toNumber(attribute.i as number);
  return fallback;
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
 * What the operator rewriters share while one graph is quantized: the initializers, the names in
 * use, the values already quantized (so a weight or activation read by several nodes is quantized
 * once), the new initializers, and the external data writer.
 */
export class GraphQuantizer {
  readonly initializers: Map<string, TensorProto>;
  readonly external: Map<TensorProto, ExternalRange>;
  readonly file: string;
  readonly opset: number;
  readonly names: Set<string>;
  readonly valueMap = new Map<string, QuantizedValue>();
  /** Values produced by the rewritten graph so far (and graph inputs): never dequantized again. */
  readonly generated: Set<string>;
  readonly newInitializers: TensorProto[] = [];
  readonly nodes: NodeProto[] = [];
  readonly workspace = new KernelWorkspace(CHUNK_ELEMENTS);
  readonly writer?: ExternalDataWriter;
  /** Rewritten nodes by original op type (Gemm counted under Gemm) and by MatMul method. */
  readonly quantizedNodes: Record<string, number> = {};
  readonly methods: Partial<Record<MatMulMethod, number>> = {};
  quantizedWeights = 0;
  /** Elements of all float32 initializers (what `gatherFloatShare` is a share of). */
  readonly floatElements: number;
  readonly originalOp = new Map<NodeProto, string>();
  private readonly constants = new Map<string, string>();

  constructor(
    input: OnnxFile,
    readonly options: QuantizeOptions,
    outFile: string,
  ) {
    const graph = input.model.graph!;
    this.file = input.file;
    this.opset = toNumber((input.model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
    this.initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
    this.external = new Map(input.external);
    this.floatElements = (graph.initializer ?? [])
      .filter((t) => t.data_type === DataType.FLOAT)
      .reduce((sum, t) => sum + elementCount(t), 0);
    this.names = new Set<string>([
      ...this.initializers.keys(),
      ...(graph.input ?? []).map((v) => v.name ?? ''),
      ...(graph.output ?? []).map((v) => v.name ?? ''),
      ...(graph.value_info ?? []).map((v) => v.name ?? ''),
      ...(graph.node ?? []).flatMap((node) => [...(node.input ?? []), ...(node.output ?? [])]),
    ]);
    this.generated = new Set(
      (graph.input ?? []).map((v) => v.name ?? '').filter((name) => !this.initializers.has(name)),
    );
    const writeExternal =
      options.externalData === 'always' || (options.externalData === 'auto' && this.external.size > 0);
    const location = dataLocation(outFile);
    if (writeExternal) this.writer = new ExternalDataWriter(join(dirname(outFile), location), location);
  }

  shouldQuantize(node: NodeProto): boolean {
    return this.options.opTypes.includes(node.op_type ?? '') && !this.options.excludeNodes.includes(node.name ?? '');
  }

  /** True for a float32 initializer; float16, bfloat16 and double initializers are refused. */
  isFloatInitializer(name: string): boolean {
    const tensor = this.initializers.get(name);
    if (tensor && OTHER_FLOATS.has(tensor.data_type ?? 0)) floatSource(tensor, this.external, this.file); // throws: only float32 is supported
    return tensor?.data_type === DataType.FLOAT;
  }

  source(name: string): FloatSource {
    return floatSource(this.initializers.get(name)!, this.external, this.file);
  }

  /** A name not used in the graph yet, from `base`. */
  uniqueName(base: string, suffixes: string[] = ['']): string {
    let candidate = base;
    for (let n = 1; suffixes.some((s) => this.names.has(candidate + s)); n += 1) candidate = `${base}_${n}`;
    for (const s of suffixes) this.names.add(candidate + s);
    return candidate;
  }

  /** A small constant initializer shared by every rewrite that needs it (created on first use). */
  constant(key: string, make: (name: string) => TensorProto): string {
    let name = this.constants.get(key);
    if (!name) {
      name = this.uniqueName(key);
      this.newInitializers.push(make(name));
      this.constants.set(key, name);
    }
    return name;
  }

  count(node: NodeProto, method?: MatMulMethod): void {
    const op = this.originalOp.get(node) ?? node.op_type ?? '';
    this.quantizedNodes[op] = (this.quantizedNodes[op] ?? 0) + 1;
    if (method) this.methods[method] = (this.methods[method] ?? 0) + 1;
  }

  /** Adds a new initializer; large byte payloads go to the external data file when there is one. */
  async addInitializer(tensor: TensorProto, bytes?: Uint8Array): Promise<void> {
    if (bytes && this.writer && bytes.length >= EXTERNAL_THRESHOLD) {
      this.newInitializers.push({ ...tensor, data_location: EXTERNAL, external_data: await this.writer.append(bytes) });
    } else this.newInitializers.push(bytes ? { ...tensor, raw_data: bytes } : tensor);
  }

  private async storeQuantized(name: string, weight: QuantizedWeight): Promise<TensorProto> {
    const base: TensorProto = { name, dims: weight.dims, data_type: ONNX_TYPE[weight.type] };
    if (this.writer && weight.byteLength >= EXTERNAL_THRESHOLD) {
      return {
        ...base,
        data_location: EXTERNAL,
        external_data: await this.writer.append(weight.data(), weight.byteLength),
      };
    }
    return { ...base, raw_data: await collect(weight.data(), weight.byteLength) };
  }

  /** quantize_initializer of ORT's quantizer: `<name>_quantized`, `_scale`, `_zero_point`, once per weight. */
  async quantizeInitializer(
    name: string,
    type: QuantType,
    reduceRange: boolean,
    channelAxis?: number,
    symmetric?: boolean,
  ): Promise<QuantizedValue> {
    const known = this.valueMap.get(name);
    if (known) return known;
    const weight = await quantizeWeight(
      this.source(name),
      {
        type,
        symmetric: symmetric ?? (type === this.options.weightType ? type === 'int8' : false),
        reduceRange,
        ...(channelAxis !== undefined ? { channelAxis } : {}),
      },
      this.file,
      this.workspace,
    );
    const value: QuantizedValue = {
      q: `${name}_quantized`,
      scale: `${name}_scale`,
      zeroPoint: `${name}_zero_point`,
      ...(weight.channelAxis !== undefined ? { axis: weight.channelAxis } : {}),
    };
    const shape = weight.channelAxis !== undefined ? [weight.dims[weight.channelAxis]!] : [];
    this.newInitializers.push(
      { name: value.scale, dims: shape, data_type: DataType.FLOAT, float_data: weight.scales },
      { name: value.zeroPoint, dims: shape, data_type: ONNX_TYPE[type], int32_data: weight.zeroPoints },
      await this.storeQuantized(value.q, weight),
    );
    this.valueMap.set(name, value);
    this.quantizedWeights += 1;
    return value;
  }

  /** A DequantizeLinear that gives a quantized value back to float consumers, once. */
  dequantize(name: string): NodeProto | undefined {
    const value = this.valueMap.get(name);
    if (!value || this.generated.has(name)) return undefined;
    const nodeName = `${name}_DequantizeLinear`;
    if (this.nodes.some((node) => node.name === nodeName)) return undefined;
    const axis = value.axis !== undefined ? [intAttribute('axis', value.axis)] : [];
    return makeNode('DequantizeLinear', [value.q, value.scale, value.zeroPoint], [name], nodeName, axis);
  }

  emit(nodes: NodeProto[]): void {
    this.nodes.push(...nodes);
    for (const node of nodes) for (const output of node.output ?? []) this.generated.add(output);
  }

  /** The initializers still read by the rewritten graph, external ones re-homed (onnx_model.clean_initializers). */
  async keptInitializers(graphOutputs: string[]): Promise<TensorProto[]> {
    const used = new Set<string>([...this.nodes.flatMap(nodeInputs), ...graphOutputs]);
    const kept: TensorProto[] = [];
    for (const tensor of [...this.initializers.values(), ...this.newInitializers]) {
      if (!used.has(tensor.name ?? '')) continue;
      const range = this.external.get(tensor);
      if (
        this.writer &&
        (range || (tensor.raw_data?.length ?? 0) >= EXTERNAL_THRESHOLD) &&
        tensor.data_location !== EXTERNAL
      ) {
        kept.push({
          ...stripExternal(tensor),
          data_location: EXTERNAL,
          external_data: await this.writer.append(range ?? tensor.raw_data!),
        });
      } else if (range) {
        kept.push({ ...stripExternal(tensor), raw_data: await readExternalBytes(range) });
      } else kept.push(tensor);
    }
    return kept;
  }

  async discardOutput(): Promise<void> {
    await this.writer?.close();
    if (this.writer) await rm(this.writer.path, { force: true });
  }
}
