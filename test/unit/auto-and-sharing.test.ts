import { describe, expect, it } from 'vitest';
import type { StoredBatch } from '../../src/config/verification.js';
import { describeMix } from '../../src/quantize/auto/search.js';
import { equivalenceBatches } from '../../src/verify/parity.js';

const batch = (texts: number, width: number): StoredBatch => ({
  firstIndex: 0,
  texts: Array.from({ length: texts }, (_, i) => `t${i}`),
  inputIds: Array.from({ length: texts }, () => new Array(width).fill(1)),
  attentionMask: Array.from({ length: texts }, () => new Array(width).fill(1)),
  reference: {},
});

describe('equivalenceBatches: where a task graph is compared bit for bit with the multihead graph', () => {
  it('the two first (shortest) batches and the smallest of the widest ones', () => {
    expect(equivalenceBatches([batch(1, 3), batch(4, 5), batch(16, 9), batch(16, 128), batch(3, 40), batch(15, 128)])).toEqual([0, 1, 5]);
  });
  it('no duplicates when the widest batch is among the first; one batch alone is itself', () => {
    expect(equivalenceBatches([batch(2, 7), batch(3, 128), batch(5, 10)])).toEqual([0, 1]);
    expect(equivalenceBatches([batch(2, 7)])).toEqual([0]);
    expect(equivalenceBatches([])).toEqual([]);
  });
});

describe('describeMix: the INT8 choice in words', () => {
  it('names the base, the share at higher precision, or every MatMul', () => {
    expect(describeMix('dynamic', {}, 42)).toBe('dynamic');
    expect(describeMix('dynamic', { a: 'weight-only-10', b: 'weight-only-12' }, 42)).toBe('dynamic + 2 of 42 MatMuls at higher precision');
    expect(describeMix('per-token', { a: 'weight-only-10', b: 'weight-only-10' }, 2)).toBe('every MatMul at higher precision');
  });
});
