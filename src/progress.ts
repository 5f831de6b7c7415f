/** A progress line for a long loop: a bar, the count and, once an item is done, the time left at the pace so far. */
export class ProgressLine {
  private readonly started: number;

  constructor(
    private readonly total: number,
    private readonly unit: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** `[######--------------] 30% 187/625 batches, about 1m 12s left` after `done` items. */
  line(done: number): string {
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(share * 20);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}]`;
    const head = `${bar} ${Math.floor(share * 100)}% ${done}/${this.total} ${this.unit}`;
    if (done <= 0 || done >= this.total) return head;
    const left = ((this.now() - this.started) / done) * (this.total - done);
    return `${head}, about ${formatDuration(left)} left`;
  }
}

/** 1m 12s, 45s, 2h 03m: what a person reads at a glance. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
