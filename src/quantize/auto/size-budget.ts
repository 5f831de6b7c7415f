import type { OnnxFile } from '../../onnx/model-file.js';
import { elementCount } from '../../onnx/tensor.js';
import type { MatMulMethod } from '../options.js';
import { quantizableMatMuls } from './candidates.js';

/** The higher precision the most damaging MatMuls fall back to. */
const FALLBACK: MatMulMethod = 'weight-only-10';
/** The most damaging nodes get this instead of FALLBACK while the size goal allows (0.25 byte more per weight). */
const PRECISE_FALLBACK: MatMulMethod = 'weight-only-12';

/** Elements of each initializer, by name. */
function initializerSizes(source: OnnxFile): Map<string, number> {
  return new Map((source.model.graph!.initializer ?? []).map((tensor) => [tensor.name ?? '', elementCount(tensor)]));
}

/**
 * What the size goal leaves for 12-bit weights: the goal's bytes, less the first all-INT8 graph's
 * (1 byte per weight), less the residuals every MatMul gets when it falls back to 10-bit (2 bits a
 * weight), less 1% for the per-task graphs' heads. Each MatMul's 12-bit weights cost a quarter byte
 * per weight more than 10-bit.
 */
export class SizeBudget {
  private readonly sizes: Map<string, number>;
  private readonly costs: Map<string, number>;
  private preciseBytes: number | undefined;

  constructor(
    private readonly fp32: OnnxFile,
    private readonly maxSizeShare: number,
  ) {
    this.sizes = initializerSizes(fp32);
    this.costs = new Map(
      quantizableMatMuls(fp32.model).map((c) => [c.name, (this.sizes.get(c.node.input![1]!) ?? Infinity) / 4]),
    );
  }

  /** Set once from the first INT8 graph built (every MatMul at 8 bits). */
  measured(int8Bytes: number): void {
    if (this.preciseBytes !== undefined) return;
    const fp32Bytes = 4 * [...this.sizes.values()].reduce((sum, count) => sum + count, 0);
    const residuals = quantizableMatMuls(this.fp32.model).reduce(
      (sum, c) => sum + (this.sizes.get(c.node.input![1]!) ?? 0) / 4,
      0,
    );
    this.preciseBytes = Math.max(0, (this.maxSizeShare - 0.01) * fp32Bytes - int8Bytes - residuals);
  }

  /** The first k nodes of `order` at higher precision: 12-bit while the budget allows, then 10-bit. */
  fallbacks(order: readonly string[], k: number): Record<string, MatMulMethod> {
    let spent = 0;
    const methods: Record<string, MatMulMethod> = {};
    for (const name of order.slice(0, k)) {
      const cost = this.costs.get(name) ?? Infinity;
      const precise = this.preciseBytes !== undefined && spent + cost <= this.preciseBytes;
      if (precise) spent += cost;
      methods[name] = precise ? PRECISE_FALLBACK : FALLBACK;
    }
    return methods;
  }
}
