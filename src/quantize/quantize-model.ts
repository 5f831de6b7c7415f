import { InputError } from '../errors.js';
import { writeModelFile, type OnnxFile } from '../onnx/model-file.js';
import type { ModelProto } from '../onnx/proto.js';
import type { MatMulMethod, QuantizeOptions } from './options.js';
import { OPERATOR_REWRITERS } from './operators/registry.js';
import { replaceGemmWithMatMul } from './gemm.js';
import { GraphQuantizer } from './quantizer.js';

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
/** Op types ORT's quantize_dynamic lists but only touches after a quantized input (left alone silently). */
const PASS_THROUGH = new Set(['Transpose']);

export interface QuantizeResult {
  file: string;
  dataFile?: string;
  /** Nodes rewritten, by original op type (Gemm counted under Gemm). */
  quantizedNodes: Record<string, number>;
  /** MatMul nodes by method. */
  methods: Partial<Record<MatMulMethod, number>>;
  quantizedWeights: number;
  gemmRewritten: number;
  /** Op types asked for that are in the graph but not implemented here (left in float). */
  unsupported: Record<string, number>;
  bytes: number;
}

function refuseUnsuitable(input: OnnxFile, quantizer: GraphQuantizer): void {
  if (quantizer.opset < 11) {
    throw new InputError(
      `opset ${quantizer.opset} is too old for dynamic quantization (DynamicQuantizeLinear needs opset 11+)`,
      {
        file: input.file,
        hint: 'export with --opset 17',
      },
    );
  }
  const quantizedOps = (input.model.graph!.node ?? [])
    .filter((node) => ALREADY_QUANTIZED.has(node.op_type ?? ''))
    .map((node) => node.op_type);
  if (quantizedOps.length > 0) {
    throw new InputError(`the model is already quantized (it has ${[...new Set(quantizedOps)].join(', ')} nodes)`, {
      file: input.file,
      code: 'ALREADY_QUANTIZED',
      hint: 'quantize the FP32 model instead',
    });
  }
}

/**
 * INT8 quantization of a float32 ONNX graph. With the default method ("dynamic") the output is
 * ONNX Runtime's quantize_dynamic's, bit for bit; other MatMul methods (per-token, weight-only(-10/-12),
 * float) can be chosen for the whole graph or per node (mixed precision). Each op type is rewritten
 * by its entry in OPERATOR_REWRITERS. Weights are read and written tensor by tensor, in chunks; with
 * external data the output streams into "<out stem>_weights.bin".
 */
export async function writeQuantizedGraph(
  input: OnnxFile,
  outFile: string,
  options: QuantizeOptions,
  producerVersion: string,
): Promise<QuantizeResult> {
  const quantizer = new GraphQuantizer(input, options, outFile);
  refuseUnsuitable(input, quantizer);
  const graph = input.model.graph!;
  const { nodes, rewritten } = await replaceGemmWithMatMul(graph.node ?? [], quantizer);
  const unsupported: Record<string, number> = {};
  for (const node of nodes) {
    const op = node.op_type ?? '';
    const rewriter = quantizer.shouldQuantize(node) ? OPERATOR_REWRITERS[op] : undefined;
    const rewrittenNodes = rewriter ? await rewriter.rewrite(node, quantizer) : undefined;
    if (rewrittenNodes) {
      quantizer.emit(rewrittenNodes);
      continue;
    }
    if (quantizer.shouldQuantize(node) && !OPERATOR_REWRITERS[op] && !PASS_THROUGH.has(op))
      unsupported[op] = (unsupported[op] ?? 0) + 1;
    const dequantized = (node.input ?? []).map((name) => quantizer.dequantize(name)).filter((dq) => dq !== undefined);
    quantizer.emit([...dequantized, node]);
  }
  for (const output of graph.output ?? []) {
    const dq = quantizer.dequantize(output.name ?? '');
    if (dq) quantizer.emit([dq]);
  }
  if (Object.keys(quantizer.quantizedNodes).length === 0) {
    await quantizer.discardOutput();
    throw new InputError(
      'nothing to quantize: no MatMul with a constant float weight, Gemm, or Gather over a float table',
      {
        file: input.file,
        code: 'NOTHING_TO_QUANTIZE',
        hint: 'check --op-types and --exclude-nodes',
      },
    );
  }
  const initializer = await quantizer.keptInitializers((graph.output ?? []).map((v) => v.name ?? ''));
  const dataBytes = quantizer.writer ? await quantizer.writer.close() : 0;
  const out: ModelProto = {
    ...input.model,
    producer_name: 'rapidfit-export.quantize',
    producer_version: producerVersion,
    graph: { ...graph, node: quantizer.nodes, initializer },
  };
  const modelBytes = await writeModelFile(outFile, out);
  return {
    file: outFile,
    ...(quantizer.writer ? { dataFile: quantizer.writer.path } : {}),
    quantizedNodes: quantizer.quantizedNodes,
    methods: quantizer.methods,
    quantizedWeights: quantizer.quantizedWeights,
    gemmRewritten: rewritten,
    unsupported,
    bytes: modelBytes + dataBytes,
  };
}
