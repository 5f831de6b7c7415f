/** MatMuls kept at higher precision, counted by kind and layer: a grid a reader takes in at a glance. */
export interface KeptGrid {
  kinds: string[];
  layers: string[];
  cells: number[][];
  methods: Array<[string, number]>;
  total: number;
}

const KINDS: Array<[string, RegExp]> = [
  ['query', /query|q_lin|q_proj|\/q\//],
  ['key', /key|k_lin|k_proj|\/k\//],
  ['value', /value|v_lin|v_proj|\/v\//],
  ['attention out', /attention\/output|out_lin|o_proj|attn\/out/],
  ['FFN in', /intermediate|lin1|fc1|up_proj|gate_proj|\/wi/],
  ['FFN out', /output|lin2|fc2|down_proj|\/wo/],
];
const HEADS = 'heads';

/** The encoder layer a node sits in ("3"), or `heads` for a task head, or "other". */
function layerOf(node: string): string {
  const layer = /(?:layer|layers|block|blocks|h)[._/](\d+)\//i.exec(node);
  if (layer) return layer[1]!;
  return /encoder|embeddings|pooler/i.test(node) ? 'other' : HEADS;
}

function kindOf(node: string, layer: string): string {
  if (layer === HEADS) return 'task head';
  const lower = node.toLowerCase();
  return KINDS.find(([, pattern]) => pattern.test(lower))?.[0] ?? 'other';
}

function ordered(values: Iterable<string>, order: string[]): string[] {
  return [...new Set(values)].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

export function keptGrid(higherPrecision: Record<string, string>): KeptGrid {
  const nodes = Object.entries(higherPrecision).map(([node, method]) => {
    const layer = layerOf(node);
    return { layer, kind: kindOf(node, layer), method };
  });
  const kinds = ordered(
    nodes.map((n) => n.kind),
    [...KINDS.map(([kind]) => kind), 'task head', 'other'],
  );
  const layers = [...new Set(nodes.map((n) => n.layer))].sort((a, b) => layerRank(a) - layerRank(b));
  const cells = kinds.map((kind) =>
    layers.map((layer) => nodes.filter((n) => n.kind === kind && n.layer === layer).length),
  );
  const methods = new Map<string, number>();
  for (const { method } of nodes) methods.set(method, (methods.get(method) ?? 0) + 1);
  return { kinds, layers, cells, methods: [...methods].sort((a, b) => b[1] - a[1]), total: nodes.length };
}

function layerRank(layer: string): number {
  if (/^\d+$/.test(layer)) return Number(layer);
  return layer === HEADS ? 1e6 : 1e6 + 1;
}

/** "42 (42 weight-only-10)" or "3 (2 weight-only-12, 1 weight-only-10)". */
export function methodsText(grid: KeptGrid): string {
  return grid.methods.map(([method, count]) => `${count} ${method}`).join(', ');
}
