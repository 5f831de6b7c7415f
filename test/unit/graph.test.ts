import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { consumers, isTopologicallySorted, producers, pruneToOutputs, renameValue } from '../../src/onnx/graph.js';
import { decodeModel, encodeModel, type ModelProto } from '../../src/onnx/proto.js';
import { floatTensor, modelOf, valueInfo } from '../helpers/onnx-models.js';

/** x -> Add(c1) -> a; a -> Mul(c2) -> out0; a -> Relu -> out1 */
function twoOutputModel(): ModelProto {
  return modelOf({
    name: 'g',
    node: [
      { op_type: 'Add', input: ['x', 'c1'], output: ['a'], name: 'add' },
      { op_type: 'Mul', input: ['a', 'c2'], output: ['out0'], name: 'mul' },
      { op_type: 'Relu', input: ['a'], output: ['out1'], name: 'relu' },
    ],
    initializer: [floatTensor('c1', [1, -5]), floatTensor('c2', [2, 3])],
    input: [valueInfo('x', [2])],
    output: [valueInfo('out0', [2]), valueInfo('out1', [2])],
    value_info: [valueInfo('a', [2])],
  });
}

async function run(model: ModelProto, x: number[]): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  const result = await session.run({ x: new ort.Tensor('float32', new Float32Array(x), [2]) });
  return Object.fromEntries(
    Object.entries(result).map(([name, tensor]) => [name, Array.from(tensor.data as Float32Array)]),
  );
}

describe('graph utilities', () => {
  it('finds producers and consumers', () => {
    const graph = twoOutputModel().graph!;
    expect(producers(graph).get('a')).toBe(0);
    expect(consumers(graph).get('a')).toEqual([1, 2]);
    expect(isTopologicallySorted(graph)).toBe(true);
    expect(isTopologicallySorted({ ...graph, node: [...graph.node!].reverse() })).toBe(false);
  });

  it('prunes to one output, dropping dead nodes and initializers, and still runs in onnxruntime', async () => {
    const model = twoOutputModel();
    const pruned = pruneToOutputs(model.graph!, ['out1']);
    expect(pruned.node!.map((node) => node.name)).toEqual(['add', 'relu']);
    expect(pruned.initializer!.map((tensor) => tensor.name)).toEqual(['c1']);
    expect(pruned.output!.map((value) => value.name)).toEqual(['out1']);
    const renamed = renameValue(pruned, 'out1', 'logits');
    const outputs = await run({ ...model, graph: renamed }, [1, 2]);
    expect(Object.keys(outputs)).toEqual(['logits']);
    expect(outputs.logits).toEqual([2, 0]);
  });

  it('keeps the full model working after an encode/decode round trip', async () => {
    const bytes = encodeModel(twoOutputModel());
    const decoded = decodeModel(bytes);
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    expect(await run(decoded, [1, 2])).toEqual({ out0: [4, -9], out1: [2, 0] });
  });

  it('refuses an unknown output and a rename onto a used name', () => {
    const graph = twoOutputModel().graph!;
    expect(() => pruneToOutputs(graph, ['nope'])).toThrow(/no output\(s\) nope/);
    expect(() => renameValue(graph, 'out0', 'a')).toThrow(/already used/);
  });

  it('keeps names a subgraph reads from the outer scope', () => {
    const graph = twoOutputModel().graph!;
    const withIf = {
      ...graph,
      node: [
        ...graph.node!,
        {
          op_type: 'If',
          input: ['cond'],
          output: ['out2'],
          name: 'if',
          attribute: [
            {
              name: 'then_branch',
              g: { node: [{ op_type: 'Identity', input: ['a'], output: ['t'] }], output: [valueInfo('t', [2])] },
            },
          ],
        },
      ],
      output: [...graph.output!, valueInfo('out2', [2])],
    };
    const pruned = pruneToOutputs(withIf, ['out2']);
    expect(pruned.node!.map((node) => node.name)).toEqual(['add', 'if']);
  });
});
