import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipProgressLine, venvPython, venvState } from '../../src/bridge/venv.js';
import { buildExportOptions } from '../../src/commands/export.js';
import { EMBEDDED_SAMPLES } from '../../src/verify/sample-texts.js';
import { batchSamples, byLength, embeddedSamples } from '../../src/verify/samples.js';
import { scratchDir } from '../helpers/cli.js';

describe('samples', () => {
  it('embeds at least 200 varied texts, including long, non-Latin, emoji and punctuation-only ones', () => {
    expect(EMBEDDED_SAMPLES.length).toBeGreaterThanOrEqual(200);
    expect(EMBEDDED_SAMPLES.some((text) => text.length > 2000)).toBe(true);
    expect(EMBEDDED_SAMPLES.some((text) => /[\u4e00-\u9fff]/.test(text))).toBe(true);
    expect(EMBEDDED_SAMPLES.some((text) => /[\u0600-\u06ff]/.test(text))).toBe(true);
    expect(EMBEDDED_SAMPLES.some((text) => /\p{Extended_Pictographic}/u.test(text))).toBe(true);
    expect(EMBEDDED_SAMPLES.some((text) => /^[\p{P}\s]+$/u.test(text))).toBe(true);
    expect(new Set(EMBEDDED_SAMPLES).size).toBe(EMBEDDED_SAMPLES.length);
  });
  it('is reproducible for a seed and differs between seeds', () => {
    expect(embeddedSamples(7).texts).toEqual(embeddedSamples(7).texts);
    expect(embeddedSamples(7).texts).not.toEqual(embeddedSamples(8).texts);
    expect(embeddedSamples(7, 10).texts).toHaveLength(10);
  });
  it('batches every text once with varying batch sizes', () => {
    const texts = embeddedSamples(1).texts;
    const batches = batchSamples(texts);
    expect(batches.flatMap((batch) => batch.texts)).toEqual(texts);
    expect(new Set(batches.map((batch) => batch.texts.length)).size).toBeGreaterThan(3);
    expect(batches[0]!.texts).toHaveLength(1);
  });
  it('orders each split by length (stable), gold labels alongside, without moving a text across splits', () => {
    const samples = {
      source: 'test',
      seed: 1,
      texts: ['ccc', 'a', 'bb', 'dddd', 'e', 'ff', 'g'],
      gold: [{ t: 3 }, { t: 1 }, { t: 2 }, { t: 4 }, { t: 5 }, { t: 6 }, undefined],
    };
    const ordered = byLength(samples, 4);
    expect(ordered.texts).toEqual(['a', 'bb', 'ccc', 'dddd', 'e', 'g', 'ff']);
    expect(ordered.gold).toEqual([{ t: 1 }, { t: 2 }, { t: 3 }, { t: 4 }, { t: 5 }, undefined, { t: 6 }]);
    // given lengths (token counts) rule, not characters
    expect(byLength(samples, 4, [1, 9, 5, 2, 3, 1, 2]).texts).toEqual(['ccc', 'dddd', 'bb', 'a', 'ff', 'g', 'e']);
  });
});

describe('bridge venv state', () => {
  it('is ready only with a marker for this lock and an interpreter', () => {
    const root = scratchDir('rfe-venv-');
    const venv = join(root, 'venv');
    expect(venvState(venv, 'abc')).toBe('missing');
    mkdirSync(join(venv, 'bin'), { recursive: true });
    expect(venvState(venv, 'abc')).toBe('incomplete');
    writeFileSync(join(venv, '.rapidfit-export-ready.json'), JSON.stringify({ lockHash: 'abc' }));
    expect(venvState(venv, 'abc')).toBe('incomplete');
    writeFileSync(venvPython(venv), '');
    expect(venvState(venv, 'abc')).toBe('ready');
    expect(venvState(venv, 'other-lock')).toBe('incomplete');
  });
  it('turns pip output into short progress lines', () => {
    expect(pipProgressLine('Collecting torch==2.15.0 (from -r lock (line 3))')).toMatch(/^Collecting torch/);
    expect(pipProgressLine('  Downloading torch-2.15.0.whl (539.1 MB)')).toBe(
      'Downloading torch-2.15.0.whl (539.1 MB)',
    );
    expect(pipProgressLine('Requirement already satisfied: x')).toBeNull();
  });
});

describe('export options', () => {
  const base = {
    force: false,
    'external-data': false,
    'per-channel': false,
    'reduce-range': false,
    json: false,
    progress: true,
    'no-progress': false,
    latency: false,
    'no-latency': false,
    verbose: false,
    help: false,
    version: false,
  };
  it('applies defaults and derives the output dir', () => {
    const options = buildExportOptions('/models/my_model', base);
    expect(options).toMatchObject({
      outDir: '/models/my_model-onnx',
      opset: 17,
      maxLength: 128,
      exporter: 'torchscript',
      fp32Tolerance: 1e-4,
      int8Top1: 0.99,
      quantize: 'int8',
      int8: 'auto',
      int8Budget: 16,
      latency: false,
    });
    expect(options.quantization).toMatchObject({
      weightType: 'int8',
      perChannel: false,
      reduceRange: false,
      excludeNodes: [],
    });
    expect(buildExportOptions('/m', { ...base, tasks: 'a, b,,c' }).tasks).toEqual(['a', 'b', 'c']);
  });
  it('measures latency on request, and by default with --fp16 (its report states FP16 speed) unless --no-latency', () => {
    expect(buildExportOptions('/m', { ...base, latency: true }).latency).toBe(true);
    expect(buildExportOptions('/m', { ...base, fp16: true }).latency).toBe(true);
    expect(buildExportOptions('/m', { ...base, fp16: true, 'no-latency': true }).latency).toBe(false);
  });
  it('refuses bad numbers, ranges and combinations with a named flag', () => {
    expect(() => buildExportOptions('/m', { ...base, opset: 'ten' })).toThrowError(/--opset needs a number/);
    expect(() => buildExportOptions('/m', { ...base, opset: '9' })).toThrowError(/--opset: opset must be at least 14/);
    expect(() => buildExportOptions('/m', { ...base, 'max-length': '1' })).toThrowError(/--max-length/);
    expect(() => buildExportOptions('/m', { ...base, exporter: 'magic' })).toThrowError(/--exporter/);
    expect(() => buildExportOptions('/m', { ...base, exporter: 'dynamo', opset: '17' })).toThrowError(
      /dynamo exporter needs --opset 18/,
    );
    expect(() => buildExportOptions('/m', { ...base, 'weight-type': 'int4' })).toThrowError(/--weight-type/);
    expect(() => buildExportOptions('/m', { ...base, quantize: 'fp16' })).toThrowError(/--quantize/);
    expect(() => buildExportOptions('/m', { ...base, 'int8-top1': '1.5' })).toThrowError(/--int8-top1/);
  });
});
