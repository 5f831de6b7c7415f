import { describe, expect, it } from 'vitest';
import type { StoredBatch } from '../../src/config/verification.js';
import { describeMix } from '../../src/quantize/auto/search.js';
import { equivalenceInputs, measuredCheckBatches } from '../../src/verify/parity-plan.js';

const batch = (texts: number, width: number): StoredBatch => ({
  firstIndex: 0,
  texts: Array.from({ length: texts }, (_, i) => `t${i}`),
  inputIds: Array.from({ length: texts }, () => new Array(width).fill(1)),
  attentionMask: Array.from({ length: texts }, () => new Array(width).fill(1)),
  reference: {},
});

describe('equivalenceInputs: what a task graph is compared on, bit for bit, with the multihead graph', () => {
  const masked = (texts: number, width: number, longest: number): StoredBatch => ({
    ...batch(texts, width),
    attentionMask: Array.from({ length: texts }, (_, i) =>
      Array.from({ length: width }, (_, c) => Number(c < (i === 1 ? longest : width - 1))),
    ),
  });
  it('the two first (shortest) batches and the longest text alone, at its batch width', () => {
    const batches = [batch(1, 3), batch(4, 5), batch(16, 9), masked(16, 128, 128), batch(3, 40), masked(15, 128, 100)];
    const inputs = equivalenceInputs(batches);
    expect(inputs.map((input) => input.inputIds.length)).toEqual([1, 4, 1]);
    expect(inputs[0]).toEqual({ inputIds: batches[0]!.inputIds, attentionMask: batches[0]!.attentionMask });
    // row 1 of batch 3 has 128 tokens, every other row fewer
    expect(inputs[2]!.attentionMask).toEqual([batches[3]!.attentionMask[1]]);
    expect(inputs[2]!.inputIds[0]).toHaveLength(128);
  });
  it('no duplicate when the longest text is a one-text batch among the first; no batches, no inputs', () => {
    expect(equivalenceInputs([batch(1, 128), batch(3, 7), batch(5, 10)]).map((input) => input.inputIds.length)).toEqual(
      [1, 3],
    );
    expect(equivalenceInputs([batch(2, 7)]).map((input) => input.inputIds.length)).toEqual([2, 1]);
    expect(equivalenceInputs([])).toEqual([]);
  });
});

describe('measuredCheckBatches: what a multihead graph runs itself before measured logits stand in', () => {
  it('the first two and the last of the measured batches, each once', () => {
    expect(measuredCheckBatches(11)).toEqual([0, 1, 10]);
    expect(measuredCheckBatches(4)).toEqual([0, 1, 3]);
    // three or fewer: every one runs, nothing is stood in for
    expect(measuredCheckBatches(3)).toEqual([0, 1, 2]);
    expect(measuredCheckBatches(2)).toEqual([0, 1]);
    expect(measuredCheckBatches(1)).toEqual([0]);
    expect(measuredCheckBatches(0)).toEqual([]);
  });
});

describe('describeMix: the INT8 choice in words', () => {
  it('names the base, the share at higher precision, or every MatMul', () => {
    expect(describeMix('dynamic', {}, 42)).toBe('dynamic');
    expect(describeMix('dynamic', { a: 'weight-only-10', b: 'weight-only-12' }, 42)).toBe(
      'dynamic + 2 of 42 MatMuls at higher precision',
    );
    expect(describeMix('per-token', { a: 'weight-only-10', b: 'weight-only-10' }, 2)).toBe(
      'every MatMul at higher precision',
    );
  });
});
