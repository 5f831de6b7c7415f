import type { GraphProto, NodeProto } from './proto.js';

/** Names a node reads, including outer-scope names used inside its subgraphs (If/Loop/Scan bodies). */
export function nodeInputs(node: NodeProto): string[] {
  const names = (node.input ?? []).filter((name) => name !== '');
  for (const attribute of node.attribute ?? []) {
    const subgraphs = [...(attribute.g ? [attribute.g] : []), ...(attribute.graphs ?? [])];
    for (const subgraph of subgraphs) names.push(...outerScopeInputs(subgraph));
  }
  return names;
}

function outerScopeInputs(graph: GraphProto): string[] {
  const local = new Set<string>([
    ...(graph.input ?? []).map((value) => value.name ?? ''),
    ...(graph.initializer ?? []).map((tensor) => tensor.name ?? ''),
    ...(graph.node ?? []).flatMap((node) => node.output ?? []),
  ]);
  return (graph.node ?? []).flatMap(nodeInputs).filter((name) => !local.has(name));
}

/** Map from a value name to the index of the node that produces it. */
export function producers(graph: GraphProto): Map<string, number> {
  const map = new Map<string, number>();
  (graph.node ?? []).forEach((node, index) => {
    for (const output of node.output ?? []) if (output) map.set(output, index);
  });
  return map;
}

/** Map from a value name to the indices of the nodes that read it. */
export function consumers(graph: GraphProto): Map<string, number[]> {
  const map = new Map<string, number[]>();
  (graph.node ?? []).forEach((node, index) => {
    for (const input of nodeInputs(node)) {
      const list = map.get(input) ?? [];
      list.push(index);
      map.set(input, list);
    }
  });
  return map;
}

/**
 * A shallow copy of `graph` that keeps only `outputs` and the nodes, initializers and value_info
 * they depend on. Graph inputs are all kept so that every derived graph has the same interface.
 * Node order is preserved, so a topologically sorted graph stays sorted.
 */
export function pruneToOutputs(graph: GraphProto, outputs: string[]): GraphProto {
  const known = new Set((graph.output ?? []).map((value) => value.name));
  const unknown = outputs.filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`graph has no output(s) ${unknown.join(', ')}`);

  const nodes = graph.node ?? [];
  const producerOf = producers(graph);
  const keptNodes = new Set<number>();
  const needed = new Set<string>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    const producer = producerOf.get(name);
    if (producer === undefined || keptNodes.has(producer)) continue;
    keptNodes.add(producer);
    stack.push(...nodeInputs(nodes[producer]!));
  }
  const outputSet = new Set(outputs);
  return {
    ...graph,
    node: nodes.filter((_, index) => keptNodes.has(index)),
    initializer: (graph.initializer ?? []).filter((tensor) => needed.has(tensor.name ?? '')),
    value_info: (graph.value_info ?? []).filter((value) => needed.has(value.name ?? '')),
    output: (graph.output ?? []).filter((value) => outputSet.has(value.name ?? '')),
  };
}

/** Every name defined or used in the graph (inputs, initializers, node inputs and outputs). */
function allNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const value of graph.input ?? []) if (value.name) names.add(value.name);
  for (const tensor of graph.initializer ?? []) if (tensor.name) names.add(tensor.name);
  for (const node of graph.node ?? []) {
    for (const name of [...nodeInputs(node), ...(node.output ?? [])]) if (name) names.add(name);
  }
  return names;
}

/**
 * Renames the value `from` to `to` everywhere in the graph (copying the nodes it touches).
 * Refuses when `to` is already used, since that would merge two values.
 */
export function renameValue(graph: GraphProto, from: string, to: string): GraphProto {
  if (from === to) return graph;
  if (allNames(graph).has(to)) throw new Error(`cannot rename "${from}" to "${to}": the name is already used`);
  const swap = (name: string) => (name === from ? to : name);
  return {
    ...graph,
    node: (graph.node ?? []).map((node) =>
      (node.input ?? []).includes(from) || (node.output ?? []).includes(from)
        ? { ...node, input: (node.input ?? []).map(swap), output: (node.output ?? []).map(swap) }
        : node,
    ),
    input: (graph.input ?? []).map((value) => (value.name === from ? { ...value, name: to } : value)),
    output: (graph.output ?? []).map((value) => (value.name === from ? { ...value, name: to } : value)),
    value_info: (graph.value_info ?? []).map((value) => (value.name === from ? { ...value, name: to } : value)),
    initializer: (graph.initializer ?? []).map((tensor) => (tensor.name === from ? { ...tensor, name: to } : tensor)),
  };
}

/** True when every node reads only graph inputs, initializers or outputs of earlier nodes. */
export function isTopologicallySorted(graph: GraphProto): boolean {
  const available = new Set<string>([
    ...(graph.input ?? []).map((value) => value.name ?? ''),
    ...(graph.initializer ?? []).map((tensor) => tensor.name ?? ''),
  ]);
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? []) if (input && !available.has(input)) return false;
    for (const output of node.output ?? []) if (output) available.add(output);
  }
  return true;
}
