import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairedDifference, wilson } from '../../src/metrics/intervals.js';
import { allowedFlips, calibrationFlips } from '../../src/quantize/policy.js';
import { stratifiedHalves, stratifiedSubsample } from '../../src/samples/split.js';
import { readUserSamples } from '../../src/samples/user-samples.js';
import { minJudgedTexts, sampleWarnings } from '../../src/verify/sample-warnings.js';
import { MAX_CALIBRATION_TEXTS, MAX_JUDGED_TEXTS, planSamples, splitRanges } from '../../src/verify/samples.js';

const labelMaps = { lang: { de: 0, en: 1, fr: 2 } };

/** n texts, labels de/en/fr in the ratio 1:2:3 (so strata have different sizes), some unlabelled. */
function userTexts(n: number) {
  const labels = ['de', 'en', 'en', 'fr', 'fr', 'fr'];
  return Array.from({ length: n }, (_, i) => ({ text: `text ${String(i).padStart(6, '0')}`, label: labels[i % 6]! }));
}

function files(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'rfe-own-'));
  const rows = userTexts(n);
  const json = join(dir, 'seed.json');
  writeFileSync(json, JSON.stringify({ lang: rows }));
  const csv = join(dir, 'val.csv');
  writeFileSync(csv, `text,lang\n${rows.map((r) => `${r.text},${r.label}`).join('\n')}\n`);
  const jsonl = join(dir, 'val.jsonl');
  writeFileSync(jsonl, rows.map((r) => JSON.stringify({ text: r.text, labels: { lang: r.label } })).join('\n'));
  return { json, csv, jsonl };
}

const embedded = ['probe one', 'probe two', 'probe three'];

describe('own data: which texts do what', () => {
  it('the same texts as seed JSON, CSV or JSONL, or one file given twice, make the same splits', async () => {
    const { json, csv, jsonl } = files(600);
    const plan = async (paths: string[]) =>
      planSamples({ seed: 7, embedded, user: await readUserSamples(paths, { labelMaps }), tuned: true });
    const fromJson = await plan([json]);
    for (const other of [[csv], [jsonl], [json, json], [json, csv]]) {
      const again = await plan(other);
      expect(again.texts).toEqual(fromJson.texts);
      expect(again.gold).toEqual(fromJson.gold);
      expect(again.splits).toEqual(fromJson.splits);
    }
    expect((await plan([json, json])).origin.user!.merged).toBe(600);
    // another seed, other halves
    const seeded = planSamples({ seed: 8, embedded, user: await readUserSamples([json], { labelMaps }), tuned: true });
    expect(seeded.texts.slice(0, 300)).not.toEqual(fromJson.texts.slice(0, 300));
  });

  it('user texts alone are split (label-stratified halves); the embedded ones follow as probes', async () => {
    const { json } = files(601);
    const samples = planSamples({ seed: 3, embedded, user: await readUserSamples([json], { labelMaps }), tuned: true });
    expect(samples.splits).toEqual({ calibration: 300, judged: 301, embedded: 3 });
    const ranges = Object.fromEntries(splitRanges(samples).map(([split, from, to]) => [split, [from, to]]));
    const texts = (split: string) => samples.texts.slice(ranges[split]![0], ranges[split]![1]);
    expect(texts('embedded')).toEqual(embedded);
    expect(new Set([...texts('calibration'), ...texts('judged')]).size).toBe(601);
    // each label keeps its share in each half (to one text)
    const count = (split: string, label: number) =>
      samples.gold!.slice(ranges[split]![0], ranges[split]![1]).filter((g) => g?.lang === label).length;
    for (const label of [0, 1, 2])
      expect(Math.abs(count('calibration', label) - count('judged', label))).toBeLessThanOrEqual(1);
    expect(samples.gold!.slice(ranges.embedded![0])).toEqual([undefined, undefined, undefined]);
    expect(samples.origin).toMatchObject({ embedded: 3, user: { texts: 601, labelled: 601, merged: 0 } });
    // a fixed INT8 method tunes nothing: every user text is judged
    const fixed = planSamples({ seed: 3, embedded, user: await readUserSamples([json], { labelMaps }), tuned: false });
    expect(fixed.splits).toEqual({ calibration: 0, judged: 601, embedded: 3 });
    // without user texts, the embedded texts are the ones split
    expect(planSamples({ seed: 3, embedded, tuned: true }).splits).toEqual({ calibration: 1, judged: 2, embedded: 0 });
  });

  it('caps: calibration past its cap is judged instead, judged past its cap is left out (stratified)', async () => {
    const n = 2 * MAX_JUDGED_TEXTS + 100;
    const { json } = files(n);
    const samples = planSamples({
      seed: 1,
      embedded: [],
      user: await readUserSamples([json], { labelMaps }),
      tuned: true,
    });
    expect(samples.splits.calibration).toBe(MAX_CALIBRATION_TEXTS);
    expect(samples.splits.judged).toBe(MAX_JUDGED_TEXTS);
    expect(samples.origin.movedToJudged).toBe(n / 2 - MAX_CALIBRATION_TEXTS);
    expect(samples.origin.leftOut).toBe(n - MAX_CALIBRATION_TEXTS - MAX_JUDGED_TEXTS);
    const judged = samples.gold!.slice(MAX_CALIBRATION_TEXTS);
    const share = (label: number) => judged.filter((g) => g?.lang === label).length / judged.length;
    expect(share(0)).toBeCloseTo(1 / 6, 3);
    expect(share(2)).toBeCloseTo(1 / 2, 3);
  });

  it('stratified halves: disjoint, complete, balanced per stratum, seeded', () => {
    const keys = Array.from({ length: 101 }, (_, i) => (i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : ''));
    const halves = stratifiedHalves(keys, 5);
    expect([...halves.first, ...halves.second].sort((x, y) => x - y)).toEqual(keys.map((_, i) => i));
    expect(Math.abs(halves.first.length - halves.second.length)).toBeLessThanOrEqual(1);
    expect(stratifiedHalves(keys, 5)).toEqual(halves);
    expect(stratifiedHalves(keys, 6).first).not.toEqual(halves.first);
    const sub = stratifiedSubsample(halves.first, keys, 10);
    expect(sub.kept).toHaveLength(10);
    expect(sub.kept.length + sub.dropped.length).toBe(halves.first.length);
  });
});

describe('own data: statistics', () => {
  it('Wilson intervals: known values, exact ends', () => {
    const [low, high] = wilson(99, 100);
    expect(low).toBeCloseTo(0.9455, 4);
    expect(high).toBeCloseTo(0.9982, 4);
    expect(wilson(107, 107)[1]).toBe(1);
    expect(wilson(107, 107)[0]).toBeCloseTo(0.9653, 4);
    expect(wilson(0, 10)[0]).toBe(0);
    expect(wilson(0, 0)).toEqual([0, 1]);
    // the paired difference of equal outcomes is 0 with an interval around it
    const same = pairedDifference({ both: 90, firstOnly: 0, secondOnly: 0, neither: 10 });
    expect(same.value).toBe(0);
    expect(same.interval[0]).toBeLessThan(0);
    expect(same.interval[1]).toBeGreaterThan(0);
  });

  it('the calibration target: half the gate allowance, rounded up, so a small split does not demand zero flips', () => {
    expect(allowedFlips(0.99, 107)).toBe(1);
    expect(calibrationFlips(0.99, 106)).toBe(1);
    expect(calibrationFlips(0.99, 152)).toBe(1);
    expect(calibrationFlips(0.99, 382)).toBe(2);
    expect(calibrationFlips(0.99, 1000)).toBe(5);
    expect(calibrationFlips(0.99, 50)).toBe(0); // the gate itself allows none
    expect(calibrationFlips(1, 500)).toBe(0);
  });

  it('the judged-split rule: 3 / (1 - gate) texts, the rule of three', () => {
    expect(minJudgedTexts(0.99)).toBe(300);
    expect(minJudgedTexts(0.95)).toBe(60);
    expect(minJudgedTexts(1)).toBe(Infinity);
    // at that count a run with no flip has its 95% Wilson lower bound near the gate
    expect(wilson(300, 300)[0]).toBeGreaterThan(0.985);
    const user = { files: [], texts: 400, merged: 0, labelled: 0 };
    const warn = (judged: number, withUser: boolean, gates = [0.99]) =>
      sampleWarnings({
        samples: {
          splits: { calibration: 0, judged, embedded: 0 },
          origin: { embedded: 213, ...(withUser ? { user } : {}) },
        },
        int8Gates: gates,
        tuned: true,
      });
    expect(warn(300, true)).toEqual([]);
    expect(warn(299, true)).toEqual([expect.stringMatching(/judged on 299 texts, fewer than the 300/)]);
    expect(warn(400, false)).toEqual([expect.stringMatching(/rest on 213 generic embedded texts.*--samples/)]);
    expect(warn(107, false)).toHaveLength(2);
    expect(warn(60, true, [0.95])).toEqual([]);
    expect(warn(107, false, [])).toEqual([]); // no INT8 graph, nothing to warn about
  });
});
