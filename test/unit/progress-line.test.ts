import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressLine } from '../../src/progress.js';

describe('ProgressLine', () => {
  it('shows the bar, the count and the time left at the pace so far', () => {
    let now = 0;
    const progress = new ProgressLine(100, 'batches', () => now);
    expect(progress.line(0)).toBe('[--------------------] 0% 0/100 batches');
    now = 30_000; // 25 batches in 30 s: 75 left take 90 s
    expect(progress.line(25)).toBe('[#####---------------] 25% 25/100 batches, about 1m 30s left');
    expect(progress.line(100)).toBe('[####################] 100% 100/100 batches');
  });

  it('formats durations a person reads at a glance', () => {
    expect(formatDuration(400)).toBe('1s');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(72_000)).toBe('1m 12s');
    expect(formatDuration(2 * 3600_000 + 3 * 60_000)).toBe('2h 03m');
  });
});
