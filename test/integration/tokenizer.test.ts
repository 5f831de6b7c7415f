import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { batchRow } from '../../src/tokenizer/padding.js';
import { findTokenMismatch } from '../../src/tokenizer/parity.js';
import { TextTokenizer } from '../../src/tokenizer/tokenizer.js';
import { EMBEDDED_SAMPLES } from '../../src/verify/sample-texts.js';
import { bridgePython, scratchDir } from '../helpers/cli.js';
import { HARD_TEXTS } from '../helpers/hard-texts.js';

const HELPER = join(PACKAGE_ROOT, 'test', 'helpers', 'tokenizer_parity.py');

interface PythonBatch {
  input_ids: number[][];
  attention_mask: number[][];
}

async function python<T>(interpreter: string, request: object): Promise<T> {
  const run = await execa(interpreter, [HELPER], {
    input: JSON.stringify(request),
    timeout: 5 * 60_000,
    env: { PYTHONWARNINGS: 'ignore' },
  });
  return JSON.parse(run.stdout) as T;
}

/** The hard texts as one padded batch, each alone, and the embedded samples in batches of 16. */
const BATCHES: string[][] = [
  [...HARD_TEXTS],
  ...HARD_TEXTS.map((text) => [text]),
  ...Array.from({ length: Math.ceil(EMBEDDED_SAMPLES.length / 16) }, (_, index) =>
    EMBEDDED_SAMPLES.slice(index * 16, index * 16 + 16),
  ),
];
// 2: only the special tokens are left (below that, transformers does not truncate and Node refuses)
const MAX_LENGTHS = [2, 8, 128];

describe('Node tokenizer parity with transformers (tokenizer(texts, padding=True, truncation=True, max_length=L))', () => {
  const dirs: Record<string, string> = {
    'WordPiece (tiny BERT fixture)': join(fixturePath('tiny-mean-gelu'), 'encoder'),
    'WordPiece (all-MiniLM-L6-v2)': join(fixturePath('minilm-3task'), 'encoder'),
  };
  const reference = new Map<string, PythonBatch[]>();

  beforeAll(async () => {
    const interpreter = await bridgePython();
    // Unigram (XLM-R layout) and byte-level BPE (RoBERTa layout) tokenizers, trained here offline
    const built = await python<{ dirs: Record<string, string> }>(interpreter, {
      command: 'build',
      out_dir: scratchDir('rfe-tokenizers-'),
      corpus: [...EMBEDDED_SAMPLES, ...EMBEDDED_SAMPLES.map((text) => text.toLowerCase())],
    });
    dirs['Unigram (XLM-R-like)'] = built.dirs.unigram!;
    dirs['byte-level BPE (RoBERTa-like)'] = built.dirs.bpe!;
    dirs['byte-level BPE, left padding and truncation'] = built.dirs['bpe-left']!;
    const jobs = Object.entries(dirs).flatMap(([name, dir]) =>
      MAX_LENGTHS.map((maxLength) => ({ name, dir, max_length: maxLength, batches: BATCHES })),
    );
    const answer = await python<{ results: PythonBatch[][] }>(interpreter, { command: 'encode', jobs });
    jobs.forEach((job, index) => reference.set(`${job.name}@${job.max_length}`, answer.results[index]!));
  }, 10 * 60_000);

  const cases = [
    'WordPiece (tiny BERT fixture)',
    'WordPiece (all-MiniLM-L6-v2)',
    'Unigram (XLM-R-like)',
    'byte-level BPE (RoBERTa-like)',
    'byte-level BPE, left padding and truncation',
  ].flatMap((name) => MAX_LENGTHS.map((maxLength) => [name, maxLength] as const));

  it.each(cases)(
    '%s, max_length %i: identical input_ids and attention_mask on every batch',
    async (name, maxLength) => {
      const tokenizer = TextTokenizer.load(dirs[name]!);
      const expected = reference.get(`${name}@${maxLength}`)!;
      let rows = 0;
      for (const [index, texts] of BATCHES.entries()) {
        const batch = await tokenizer.encode(texts, maxLength);
        const want = expected[index]!;
        expect([batch.rows, batch.width], `batch ${index} shape`).toEqual([
          want.input_ids.length,
          want.input_ids[0]?.length ?? 0,
        ]);
        for (const [row, text] of texts.entries()) {
          expect(
            batchRow(batch.inputIds, batch.width, row),
            `input_ids of ${JSON.stringify(text.slice(0, 40))}`,
          ).toEqual(want.input_ids[row]);
          expect(
            batchRow(batch.attentionMask, batch.width, row),
            `attention_mask of ${JSON.stringify(text.slice(0, 40))}`,
          ).toEqual(want.attention_mask[row]);
          rows += 1;
        }
      }
      // the same check as `rapidfit-export verify` runs finds nothing either
      const stored = BATCHES.map((texts, index) => ({
        texts,
        inputIds: expected[index]!.input_ids,
        attentionMask: expected[index]!.attention_mask,
      }));
      expect(await findTokenMismatch(tokenizer, stored, maxLength)).toBeUndefined();
      expect(rows).toBe(BATCHES.flat().length);
    },
  );

  it('the cases cover truncation, both padding sides, and ids beyond the special tokens', () => {
    const hard = (name: string, maxLength: number) => reference.get(`${name}@${maxLength}`)![0]!;
    // truncated at max_length, special tokens kept: [CLS] ... [SEP]
    const bert = hard('WordPiece (tiny BERT fixture)', 8);
    expect(bert.input_ids[0]!.length).toBe(8);
    expect(bert.input_ids.find((ids) => ids.every((id) => id !== 0))?.at(-1)).toBe(102);
    // right padding with the pad id (0 for BERT, 1 for <pad> in RoBERTa/XLM-R layouts), and left padding
    expect(bert.input_ids[0]!.slice(-1)).toEqual([0]);
    expect(hard('byte-level BPE (RoBERTa-like)', 128).input_ids[0]!.at(-1)).toBe(1);
    const left = hard('byte-level BPE, left padding and truncation', 128);
    expect(left.input_ids[0]![0]).toBe(1);
    expect(left.attention_mask[0]![0]).toBe(0);
    expect(hard('Unigram (XLM-R-like)', 128).input_ids[0]!.at(-1)).toBe(1);
  });

  it('refuses a max length below the special tokens (transformers would not truncate at all there)', async () => {
    for (const name of ['WordPiece (tiny BERT fixture)', 'Unigram (XLM-R-like)']) {
      await expect(TextTokenizer.load(dirs[name]!).tokenize(['a b c'], 1)).rejects.toThrow(
        /max length 1 is shorter than the 2 special tokens/,
      );
    }
  });

  it('reports the first text that differs (what verify prints)', async () => {
    const tokenizer = TextTokenizer.load(dirs['WordPiece (tiny BERT fixture)']!);
    const want = reference.get('WordPiece (tiny BERT fixture)@128')![0]!;
    const inputIds = want.input_ids.map((ids) => [...ids]);
    inputIds[5]![2] = 7;
    const mismatch = await findTokenMismatch(
      tokenizer,
      [{ texts: [...HARD_TEXTS], inputIds, attentionMask: want.attention_mask, firstIndex: 100 }],
      128,
    );
    expect(mismatch).toMatchObject({ index: 105, text: HARD_TEXTS[5] });
    expect(mismatch?.detail).toMatch(/^input_ids differ: position 2 is 7 in Python, \d+ in Node/);
  });
});
