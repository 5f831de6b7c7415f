import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipProgressLine, venvPython, venvState } from '../../src/bridge/venv.js';
import { resolve } from 'node:path';
import { exportOptionsFor } from '../../src/api/export-model.js';
import { commandHelp, parseCommandLine } from '../../src/commands/command.js';
import { exportCommand } from '../../src/commands/export.js';
import { EXPORT_OPTIONS } from '../../src/options/export.js';
import { flatten } from '../../src/options/table.js';
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
    expect(embeddedSamples(7)).toEqual(embeddedSamples(7));
    expect(embeddedSamples(7)).not.toEqual(embeddedSamples(8));
    expect(embeddedSamples(7, 10)).toHaveLength(10);
    expect(embeddedSamples(7, 0)).toHaveLength(0);
  });
  it('batches every text once with varying batch sizes', () => {
    const texts = embeddedSamples(1);
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
      splits: { calibration: 4, judged: 3, embedded: 0 },
      origin: { embedded: 0 },
    };
    const ordered = byLength(samples);
    expect(ordered.texts).toEqual(['a', 'bb', 'ccc', 'dddd', 'e', 'g', 'ff']);
    expect(ordered.gold).toEqual([{ t: 1 }, { t: 2 }, { t: 3 }, { t: 4 }, { t: 5 }, undefined, { t: 6 }]);
    // given lengths (token counts) rule, not characters
    expect(byLength(samples, [1, 9, 5, 2, 3, 1, 2]).texts).toEqual(['ccc', 'dddd', 'bb', 'a', 'ff', 'g', 'e']);
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

describe('export options (from its option table)', () => {
  const parse = (argv: string[], model = '/models/my_model') => {
    const parsed = parseCommandLine(exportCommand, [model, ...argv]);
    if (parsed.help) throw new Error('unexpected help');
    return parsed.options;
  };
  it('applies defaults and derives the output dir', () => {
    const options = parse([]);
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
    expect(parse(['--tasks', 'a, b,,c'], '/m').tasks).toEqual(['a', 'b', 'c']);
  });
  it('measures latency on request, and by default with --fp16 (its report states FP16 speed) unless --no-latency', () => {
    expect(parse(['--latency']).latency).toBe(true);
    expect(parse(['--fp16']).latency).toBe(true);
    expect(parse(['--fp16', '--no-latency']).latency).toBe(false);
  });
  it('refuses bad numbers, ranges and combinations with a named flag', () => {
    expect(() => parse(['--opset', 'ten'])).toThrow(/--opset needs a number/);
    expect(() => parse(['--opset', '9'])).toThrow(/--opset: opset must be at least 14/);
    expect(() => parse(['--max-length', '1'])).toThrow(/--max-length/);
    expect(() => parse(['--exporter', 'magic'])).toThrow(/--exporter/);
    expect(() => parse(['--exporter', 'dynamo', '--opset', '17'])).toThrow(/dynamo exporter needs --opset 18/);
    expect(() => parse(['--weight-type', 'int4'])).toThrow(/--weight-type/);
    expect(() => parse(['--quantize', 'fp16'])).toThrow(/--quantize/);
    expect(() => parse(['--int8-top1', '1.5'])).toThrow(/--int8-top1/);
    expect(() => parse(['--gate', 'spam.int8.top1=abc'])).toThrow(/^--gate: "spam.int8.top1=abc": expected/);
  });
  it('gives the library the same options as the command line, from the same table', () => {
    const argv = [
      '-o',
      '/x/out',
      '--opset',
      '18',
      '--per-channel',
      '--gate',
      'spam.int8.top1=0.95',
      '--samples',
      'a.jsonl',
    ];
    const api = exportOptionsFor('/models/my_model', {
      outDir: '/x/out',
      opset: 18,
      quantization: { perChannel: true },
      gates: ['spam.int8.top1=0.95'],
      samples: 'a.jsonl',
    });
    const cli = parse(argv);
    expect({ ...api, json: false, progress: true }).toEqual(cli);
    expect(api.samples).toEqual([resolve('a.jsonl')]);
  });
  it('states every default in the help from the schema that applies it', () => {
    const help = commandHelp(exportCommand);
    for (const [flag, value] of [
      ['opset', 17],
      ['max-length', 128],
      ['fp32-tolerance', 1e-4],
      ['int8-top1', 0.99],
      ['int8-budget', 16],
    ] as const) {
      const line = help.split('\n').find((l) => l.includes(`--${flag} `))!;
      expect(line, flag).toContain(`default ${value}`);
    }
    for (const { flag } of flatten(EXPORT_OPTIONS))
      if (flag !== 'json' && flag !== 'progress') expect(help).toContain(`--${flag}`);
  });
});
