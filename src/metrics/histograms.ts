/** Fixed-bin histograms the report draws: memory stays flat however many texts are compared. */

/** Reference top-2 softmax margins in [0, 1]: texts per bin, and how many of them flipped. */
export class MarginHistogram {
  private readonly texts: number[];
  private readonly flips: number[];

  constructor(private readonly bins = 20) {
    this.texts = new Array<number>(bins).fill(0);
    this.flips = new Array<number>(bins).fill(0);
  }

  add(margin: number, flipped: boolean): void {
    const bin = Math.min(this.bins - 1, Math.max(0, Math.floor(margin * this.bins)));
    this.texts[bin]! += 1;
    if (flipped) this.flips[bin]! += 1;
  }

  result(): { edges: number[]; texts: number[]; flips: number[] } {
    const edges = Array.from({ length: this.bins + 1 }, (_, index) => Math.round((index / this.bins) * 1e6) / 1e6);
    return { edges, texts: [...this.texts], flips: [...this.flips] };
  }
}

/** Per-text max abs logit differences on a log scale (10 bins a decade from 1e-9): for quantiles. */
export class LogBins {
  private readonly counts = new Map<number, number>();
  private total = 0;

  add(value: number): void {
    const bin = value <= 1e-9 ? -90 : Number.isFinite(value) ? Math.floor(Math.log10(value) * 10) : 1e9;
    this.counts.set(bin, (this.counts.get(bin) ?? 0) + 1);
    this.total += 1;
  }

  /** The upper edge of the bin holding the q-quantile (an upper bound within 26% of it); undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined;
    let seen = 0;
    for (const bin of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bin)!;
      if (seen >= q * this.total) return bin >= 1e9 ? Infinity : 10 ** ((bin + 1) / 10);
    }
    return undefined;
  }
}
