import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelFacts } from '../../src/export/model-spec.js';
import type { Manifest } from '../../src/config/manifest.js';
import { readTextsFile } from '../../src/predict/input-file.js';
import { readBundleTasks } from '../../src/predict/task-files.js';
import { readGatesFile } from '../../src/plan/gate-spec.js';
import { readUserSamples } from '../../src/samples/user-samples.js';
import { scratchDir } from '../helpers/cli.js';
import {
  applyJsonEdits,
  caught,
  check,
  damagedJson,
  expectConsistentSpec,
  expectUserError,
  jsonDamage,
  jsonEdit,
  printCases,
} from './fuzz-support.js';

const LABEL_MAPS = { sentiment: { negative: 0, neutral: 1, positive: 2 }, topic: { sports: 0, tech: 1 } };

/** Lines of a --samples / --file: valid entries, near-misses and junk, joined by \n or \r\n. */
const sampleLine = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc
    .record({
      text: fc.string({ maxLength: 10 }),
      labels: fc.option(
        fc.dictionary(
          fc.constantFrom('sentiment', 'topic', 'colour', 'constructor', '__proto__'),
          fc.constantFrom('negative', 'positive', 'tech', 'eggs', 'constructor', 'toString', 'length'),
        ),
        { nil: undefined },
      ),
    })
    .map((entry) => JSON.stringify(entry)),
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
  fc.constantFrom(
    'null',
    '[]',
    '"text"',
    '{"text": 5}',
    '{"text": "x", "labels": null}',
    '{"text": "x", "labels": "sentiment"}',
    '{"text": "x", "labels": {"sentiment": 1}}',
    '{"text":"x","labels":{"__proto__":"negative"}}',
    '',
    '   ',
  ),
);
const samplesFile = fc.record({
  lines: fc.array(sampleLine, { maxLength: 6 }),
  crlf: fc.boolean(),
  bytes: fc.option(fc.tuple(fc.noBias(fc.nat({ max: 10_000 })), fc.integer({ min: 0, max: 255 })), { nil: undefined }),
});

function samplesBytes(input: { lines: string[]; crlf: boolean; bytes: [number, number] | undefined }): Buffer {
  const bytes = Buffer.from(input.lines.join(input.crlf ? '\r\n' : '\n'));
  if (input.bytes && bytes.length > 0) bytes[input.bytes[0] % bytes.length] = input.bytes[1];
  return bytes;
}

/** The raw facts the bridge sends for tiny-mean-gelu (task_heads.pt metadata and encoder config.json), as parseModelFacts takes them. */
const FACTS = {
  format: 'rapidfit',
  model_dir: '/models/m',
  weights_file: '/models/m/task_heads.pt',
  encoder: {
    model_type: 'bert',
    hidden_size: 32,
    num_layers: 2,
    vocab_size: 30522,
    max_position_embeddings: 512,
    parameter_count: 1_000_000,
  },
  pooling: 'mean',
  head_config: { hidden_layers: 1, hidden_multiplier: 2, activation: 'gelu', dropout: 0.1 },
  tasks: [
    {
      name: 'sentiment',
      num_labels: 3,
      id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' },
      label2id: { negative: 0, neutral: 1, positive: 2 },
      layers: [
        [64, 32],
        [3, 64],
      ],
      parameter_count: 2307,
    },
    {
      name: 'topic',
      num_labels: 2,
      id2label: { 0: 'sports', 1: 'tech' },
      label2id: { sports: 0, tech: 1 },
      layers: [
        [64, 32],
        [2, 64],
      ],
      parameter_count: 2242,
    },
  ],
  tokenizer_dir: '/models/m/encoder',
};

const TASK_CONFIG = {
  id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' },
  label2id: { negative: 0, neutral: 1, positive: 2 },
  task: 'sentiment',
  num_labels: 3,
  max_length: 128,
  pooling: 'mean',
  input_names: ['input_ids', 'attention_mask'],
  output_name: 'logits',
  dynamic_axes: {
    input_ids: { 0: 'batch', 1: 'sequence' },
    attention_mask: { 0: 'batch', 1: 'sequence' },
    logits: { 0: 'batch' },
  },
  format: 'rapidfit',
};

const GATES = {
  fp32: { max_abs: 1e-4 },
  int8: { top1: 0.99 },
  tasks: { sentiment: { int8: { top1: 0.95 } }, topic: { fp32: { max_abs: 1e-5 } } },
};

describe('fuzz: user input files (no Python)', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('rfe-fuzz-inputs-');
  });
  afterAll(printCases);

  // --samples (.txt and .jsonl): refused with the file named, or every text a string and every gold label an id of the model's label map
  it('--samples files: user error naming the file, or texts with gold ids from the label maps', async () => {
    let accepted = 0;
    await check(
      '--samples file',
      fc.asyncProperty(samplesFile, fc.constantFrom('.txt', '.jsonl'), async (input, extension) => {
        const file = join(dir, `samples${extension}`);
        writeFileSync(file, samplesBytes(input));
        const result = await caught(async () => {
          const samples = await readUserSamples([file], { labelMaps: LABEL_MAPS });
          expect(samples.texts.length).toBeGreaterThan(0);
          expect(samples.gold).toHaveLength(samples.texts.length);
          for (const text of samples.texts) expect(typeof text).toBe('string');
          for (const gold of samples.gold ?? []) {
            for (const [task, id] of Object.entries(gold ?? {})) {
              expect(Object.keys(LABEL_MAPS)).toContain(task);
              expect(Object.values(LABEL_MAPS[task as keyof typeof LABEL_MAPS])).toContain(id);
            }
          }
          accepted += 1;
        });
        if (result) expectUserError(result, file);
      }),
      300,
    );
    expect(accepted).toBeGreaterThan(10);
  });

  // predict --file (.txt, .jsonl): refused with the file named, or a non-empty list of strings
  it('predict --file: user error naming the file, or a non-empty list of texts', async () => {
    await check(
      'predict --file',
      fc.asyncProperty(samplesFile, fc.constantFrom('.txt', '.jsonl', '.ndjson'), async (input, extension) => {
        const file = join(dir, `texts${extension}`);
        writeFileSync(file, samplesBytes(input));
        const error = await caught(async () => {
          const texts = await readTextsFile(file);
          expect(texts.length).toBeGreaterThan(0);
          for (const text of texts) expect(typeof text).toBe('string');
        });
        if (error) expectUserError(error, file);
      }),
      300,
    );
  });

  // --gates-file: refused with the file named, or every gate a known comparison and metric with a finite limit in range
  it('--gates-file: user error naming the file, or gates with finite limits in range', async () => {
    let accepted = 0;
    await check(
      '--gates-file',
      fc.property(jsonDamage, (damage) => {
        const file = join(dir, 'gates.json');
        writeFileSync(file, damagedJson(GATES, damage));
        let specs: ReturnType<typeof readGatesFile>;
        try {
          specs = readGatesFile(file);
        } catch (error) {
          expectUserError(error, file);
          return;
        }
        accepted += 1;
        for (const spec of specs) {
          expect(['fp32', 'int8']).toContain(spec.comparison);
          expect(['maxAbsDiff', 'top1Agreement']).toContain(spec.metric);
          expect(Number.isFinite(spec.limit)).toBe(true);
          expect(spec.limit).toBeGreaterThanOrEqual(0);
          if (spec.metric === 'top1Agreement') expect(spec.limit).toBeLessThanOrEqual(1);
          if (spec.task !== undefined) expect(spec.task).toMatch(/^[A-Za-z0-9_-]+$/);
        }
      }),
      300,
    );
    expect(accepted).toBeGreaterThan(0);
  });

  // task_heads.pt metadata + encoder config.json (what the bridge reads, validated in TS): refused naming task_heads.pt, or a consistent ModelSpec
  it('model facts (task_heads.pt metadata, encoder config.json, label maps): user error naming task_heads.pt, or a consistent spec', async () => {
    let accepted = 0;
    await check(
      'task_heads.pt / config.json facts',
      fc.property(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), (edits) => {
        // the paths are the bridge's own (where it read the files), not file contents: they are not fuzzed
        const { model_dir: modelDir, weights_file: weightsFile, tokenizer_dir: tokenizerDir, ...contents } = FACTS;
        const raw = {
          ...(applyJsonEdits(contents, edits) as object),
          model_dir: modelDir,
          weights_file: weightsFile,
          tokenizer_dir: tokenizerDir,
        };
        let spec: ReturnType<typeof parseModelFacts>;
        try {
          spec = parseModelFacts(raw, FACTS.model_dir);
        } catch (error) {
          // the file the bad value came from: task_heads.pt, or the encoder's config.json for encoder facts
          expectUserError(error, /\/models\/m(\/task_heads\.pt|\/encoder\/config\.json)?: /);
          return;
        }
        accepted += 1;
        expectConsistentSpec(spec);
      }),
      2000,
    );
    expect(accepted).toBeGreaterThan(10);
  });

  // a bundle's <task>_config.json (label maps, max_length) as predict reads it: refused naming the config, or labels ordered by class id
  it('<task>_config.json of a bundle: user error naming the file, or one label per class and a positive max_length', async () => {
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle, { recursive: true });
    const manifest = {
      tasks: [{ name: 'sentiment', fp32: 'sentiment.onnx', config: 'sentiment_config.json', numLabels: 3 }],
    } as unknown as Manifest;
    let accepted = 0;
    await check(
      'bundle <task>_config.json',
      fc.property(jsonDamage, (damage) => {
        const file = join(bundle, 'sentiment_config.json');
        writeFileSync(file, damagedJson(TASK_CONFIG, damage));
        let tasks: ReturnType<typeof readBundleTasks>;
        try {
          tasks = readBundleTasks(bundle, manifest);
        } catch (error) {
          expectUserError(error, file);
          return;
        }
        accepted += 1;
        const [task] = tasks;
        expect(task!.labels.length).toBeGreaterThan(0);
        for (const label of task!.labels) expect(typeof label).toBe('string');
        expect(Number.isInteger(task!.maxLength) && task!.maxLength > 0).toBe(true);
      }),
      300,
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
