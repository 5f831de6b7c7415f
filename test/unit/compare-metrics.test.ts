import { describe, expect, it } from 'vitest';
import { evaluateCompareGates } from '../../src/compare/gates.js';
import { compareTaskLogits, matchLabels } from '../../src/compare/metrics.js';

const logits = (rows: number[][]) => ({ labels: rows[0]!.length, data: Float32Array.from(rows.flat()) });

describe('compare metrics', () => {
  it('matches labels by name: the same predictions under reordered class ids agree', () => {
    expect(matchLabels(['a', 'b', 'c'], ['c', 'a', 'd'])).toEqual({
      common: ['a', 'c'],
      added: ['d'],
      removed: ['b'],
      reordered: true,
    });
    const texts = ['x', 'y', 'z'];
    const old = {
      labels: ['neg', 'pos'],
      logits: logits([
        [2, 0],
        [0, 3],
        [1, 0],
      ]),
    };
    // the new release lists the labels the other way round, with the same scores per name
    const swapped = {
      labels: ['pos', 'neg'],
      logits: logits([
        [0, 2],
        [3, 0],
        [0, 1],
      ]),
    };
    const same = compareTaskLogits(old, swapped, texts, [{}, {}, {}], 't');
    expect(same).toMatchObject({ agreed: 3, agreement: 1, changed: [] });
    expect(same.shift.maxLogit).toBe(0);
    // by index, all three would have changed
    const byIndex = compareTaskLogits(
      old,
      { labels: ['neg', 'pos'], logits: swapped.logits },
      texts,
      [{}, {}, {}],
      't',
    );
    expect(byIndex.agreed).toBe(0);
  });

  it('counts changed texts, accuracy of each release and the paired drop; the gates judge them', () => {
    const old = {
      labels: ['neg', 'pos'],
      logits: logits([
        [2, 0],
        [0, 3],
        [1, 0],
        [0, 1],
      ]),
    };
    const candidate = {
      labels: ['neg', 'pos'],
      logits: logits([
        [2, 0],
        [3, 0],
        [1, 0],
        [0, 1],
      ]),
    };
    const gold = [{ t: 'neg' }, { t: 'pos' }, { t: 'neg' }, {}];
    const metrics = compareTaskLogits(old, candidate, ['a', 'b', 'c', 'd'], gold, 't');
    expect(metrics).toMatchObject({ texts: 4, agreed: 3, agreement: 0.75 });
    expect(metrics.changed).toHaveLength(1);
    expect(metrics.changed[0]).toMatchObject({ index: 1, text: 'b', old: 'pos', new: 'neg', gold: 'pos' });
    expect(metrics.accuracy).toMatchObject({ labelled: 3, old: 1, new: 2 / 3 });
    expect(metrics.accuracy!.drop).toBeCloseTo(1 / 3, 12);
    const [agreement, drop] = evaluateCompareGates('int8', metrics, { minAgreement: 0.7, maxAccuracyDrop: 0.2 });
    expect(agreement).toMatchObject({ comparison: 'int8 new vs old', metric: 'agreement', passed: true });
    expect(drop).toMatchObject({ metric: 'accuracy_drop', passed: false, samples: 3 });
    expect(evaluateCompareGates('fp32', metrics, { minAgreement: 0.8 })).toHaveLength(1);
  });
});
