import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GraphFile } from '../context.js';

/** Size of a graph file plus its external data file, if any. */
export function graphBytes(graph: GraphFile): number {
  return statSync(graph.file).size + (graph.weights ? statSync(join(dirname(graph.file), graph.weights)).size : 0);
}
