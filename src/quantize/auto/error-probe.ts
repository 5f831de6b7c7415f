import { join } from 'node:path';
import type { OnnxFile } from '../../onnx/model-file.js';
import type { NodeProto, ValueInfoProto } from '../../onnx/proto.js';
import type { TokenizedBatch } from '../../onnx/session.js';
import type { MatMulMethod, QuantizeOptions } from '../options.js';
import { writeQuantizedGraph } from '../quantize-model.js';
import { intAttribute } from '../quantizer.js';
import { quantizableMatMuls } from './candidates.js';
import { copyLogits, type OutputLogits } from './agreement.js';
import { runBatches } from './run-graph.js';

const SUFFIX = '/error_probe';
const FLOAT = 1;

function scalarOutput(name: string): ValueInfoProto {
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: [] } } } };
}

export interface QuantizationErrors {
  /** MatMul node -> relative output error when it alone is quantized. */
  errors: Map<string, number>;
  /**
   * The graph's own outputs on the same batches (per task, batch by batch), when asked for: the probe
   * keeps every node of the FP32 graph unchanged, so these are its FP32 logits.
   */
  logits?: OutputLogits;
}

/**
 * The damage each quantizable MatMul does when it alone is quantized with `method`, measured in
 * onnxruntime-node on the calibration batches: relative error sqrt(sum (Yq - Y)^2 / sum Y^2) of its
 * output. One graph measures every node at once: each MatMul gets a quantized twin on the same float
 * input, and both outputs go to reductions; nothing of the network changes, so the errors do not
 * compound. Memory stays constant: only two sums per node are kept across batches (and, with
 * `outputs` (task -> output name), the graph's own outputs, which cost nothing more to fetch).
 */
export async function measureQuantizationErrors(
  fp32: OnnxFile,
  method: MatMulMethod,
  options: QuantizeOptions,
  batches: readonly TokenizedBatch[],
  workDir: string,
  outputs: Record<string, string> = {},
): Promise<QuantizationErrors> {
  const candidates = quantizableMatMuls(fp32.model);
  const graph = fp32.model.graph!;
  const twins = new Map(candidates.map((c) => [c.node, c]));
  const nodes: NodeProto[] = [];
  const sumOutputs: ValueInfoProto[] = [];
  const nodeMethods: Record<string, MatMulMethod> = {};
  const sums = new Map<string, { error: string; reference: string; name: string }>();
  for (const node of graph.node ?? []) {
    nodes.push(node);
    const candidate = twins.get(node);
    if (!candidate) continue;
    const output = node.output![0]!;
    const twin: NodeProto = { ...node, name: `${node.name}${SUFFIX}`, output: [`${output}${SUFFIX}`] };
    const gemm = node.op_type === 'Gemm';
    nodeMethods[candidate.name] = 'float';
    nodeMethods[gemm ? `${twin.name}_MatMul` : twin.name!] = method;
    const error = `${output}${SUFFIX}_sse`;
    const reference = `${output}${SUFFIX}_reference_ss`;
    nodes.push(
      twin,
      {
        op_type: 'Sub',
        input: [`${output}${SUFFIX}`, output],
        output: [`${output}${SUFFIX}_diff`],
        name: `${twin.name}_Sub`,
      },
      {
        op_type: 'ReduceSumSquare',
        input: [`${output}${SUFFIX}_diff`],
        output: [error],
        name: `${twin.name}_ErrorSum`,
        attribute: [intAttribute('keepdims', 0)],
      },
      {
        op_type: 'ReduceSumSquare',
        input: [output],
        output: [reference],
        name: `${twin.name}_ReferenceSum`,
        attribute: [intAttribute('keepdims', 0)],
      },
    );
    sumOutputs.push(scalarOutput(error), scalarOutput(reference));
    sums.set(candidate.name, { error, reference, name: candidate.name });
  }
  const probe = {
    ...fp32,
    model: { ...fp32.model, graph: { ...graph, node: nodes, output: [...(graph.output ?? []), ...sumOutputs] } },
  };
  const file = join(workDir, `error-probe-${method}.onnx`);
  await writeQuantizedGraph(
    probe,
    file,
    { ...options, opTypes: ['MatMul'], matmul: 'float', nodeMethods, externalData: 'auto' },
    'probe',
  );
  const totals = new Map<string, { error: number; reference: number }>(
    [...sums.keys()].map((name) => [name, { error: 0, reference: 0 }]),
  );
  const logits: OutputLogits = Object.fromEntries(Object.keys(outputs).map((task) => [task, []]));
  await runBatches(file, batches, [...sumOutputs.map((o) => o.name!), ...Object.values(outputs)], (values) => {
    for (const entry of sums.values()) {
      const total = totals.get(entry.name)!;
      total.error += Number((values[entry.error]!.data as Float32Array)[0]);
      total.reference += Number((values[entry.reference]!.data as Float32Array)[0]);
    }
    for (const [task, output] of Object.entries(outputs)) logits[task]!.push(copyLogits(values[output]!));
  });
  const errors = new Map(
    [...totals].map(([name, t]) => [name, t.reference > 0 ? Math.sqrt(t.error / t.reference) : 0]),
  );
  return { errors, ...(Object.keys(outputs).length > 0 ? { logits } : {}) };
}
