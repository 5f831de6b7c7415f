import { describe, expect, it } from 'vitest';
import { ToolError } from '../../src/errors.js';
import { lengthSortedBatches } from '../../src/predict/batches.js';
import { jsonLine, predictionTable } from '../../src/predict/format.js';
import { parseTextsFile } from '../../src/predict/input-file.js';
import { topPredictions } from '../../src/predict/softmax.js';
import { batchRow, padBatch } from '../../src/tokenizer/padding.js';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error('not refused');
}

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('predict --file', () => {
  it('text files: one text per line, CRLF, a byte order mark and blank lines handled', () => {
    expect(parseTextsFile('a.txt', bytes([0xef, 0xbb, 0xbf], 'first\r\n\r\n  \nsecond line\n\tthird\n'))).toEqual([
      'first',
      'second line',
      '\tthird',
    ]);
    expect(parseTextsFile('a.txt', bytes('no newline at the end'))).toEqual(['no newline at the end']);
  });

  it('JSONL: "text" of each line (also .ndjson), other keys ignored, empty texts kept', () => {
    expect(parseTextsFile('a.jsonl', bytes('{"text": "a", "id": 1}\n\n{"text": ""}\r\n'))).toEqual(['a', '']);
    expect(parseTextsFile('a.ndjson', bytes('{"text": "日本語 😀"}'))).toEqual(['日本語 😀']);
  });

  it('names the line: invalid UTF-8 (blank lines counted), not JSON, no "text" string', () => {
    expect(refusal(() => parseTextsFile('a.txt', bytes('ok\n\nbad ', [0xc3, 0x28], '\n')))).toBe(
      'line 3 is not valid UTF-8',
    );
    expect(refusal(() => parseTextsFile('a.txt', bytes('ok\n', [0xff])))).toBe('line 2 is not valid UTF-8');
    expect(refusal(() => parseTextsFile('a.jsonl', bytes('{"text": "a"}\n[1]\n')))).toBe('line 2 has no "text" string');
    expect(refusal(() => parseTextsFile('a.jsonl', bytes('{"text": 3}\n')))).toBe('line 1 has no "text" string');
    expect(refusal(() => parseTextsFile('a.jsonl', bytes('{"text": "a"}\n{oops\n')))).toBe('line 2 is not JSON');
  });

  it('an empty or blank file has no texts', () => {
    expect(refusal(() => parseTextsFile('a.txt', bytes('')))).toMatch(/^the file has no texts/);
    expect(refusal(() => parseTextsFile('a.txt', bytes('\n \r\n\t\n')))).toMatch(/^the file has no texts/);
  });
});

describe('batching, padding, softmax, output', () => {
  it('batches by token count, longest first, ties in input order; every index once', () => {
    expect(lengthSortedBatches([3, 9, 3, 12, 1, 9], 4)).toEqual([
      [3, 1, 5, 0],
      [2, 4],
    ]);
    expect(lengthSortedBatches([], 32)).toEqual([]);
  });

  it('pads right or left with the pad id, mask 0 on padding', () => {
    const right = padBatch(
      [
        [101, 7, 102],
        [101, 102],
      ],
      0,
      'right',
    );
    expect([right.rows, right.width]).toEqual([2, 3]);
    expect(batchRow(right.inputIds, 3, 1)).toEqual([101, 102, 0]);
    expect(batchRow(right.attentionMask, 3, 1)).toEqual([1, 1, 0]);
    const left = padBatch(
      [
        [0, 5, 2],
        [0, 2],
      ],
      1,
      'left',
    );
    expect(batchRow(left.inputIds, 3, 1)).toEqual([1, 0, 2]);
    expect(batchRow(left.attentionMask, 3, 1)).toEqual([0, 1, 1]);
    expect(batchRow(left.attentionMask, 3, 0)).toEqual([1, 1, 1]);
  });

  it('label = arg-max (first on ties), confidence = its softmax probability', () => {
    const predictions = topPredictions(Float32Array.from([1, 3, 2, 0, 0, 0]), 2, ['a', 'b', 'c']);
    expect(predictions[0]!.label).toBe('b');
    expect(predictions[0]!.confidence).toBeCloseTo(Math.exp(3) / (Math.exp(1) + Math.exp(3) + Math.exp(2)), 12);
    expect(predictions[1]).toEqual({ label: 'a', confidence: 1 / 3 });
    expect(topPredictions(Float32Array.from([1000, -1000]), 1, ['x', 'y'])[0]).toEqual({ label: 'x', confidence: 1 });
  });

  it('JSON lines and the table', () => {
    const rows = [{ spam: { label: 'ham', confidence: 0.9 } }, { spam: { label: 'spam', confidence: 0.51234 } }];
    expect(jsonLine('a "quoted"\ntext', rows[0]!)).toBe(
      '{"text":"a \\"quoted\\"\\ntext","predictions":{"spam":{"label":"ham","confidence":0.9}}}',
    );
    const table = predictionTable(['short', `日本語 ${'long '.repeat(30)}`], rows, ['spam'], 20).split('\n');
    expect(table[0]).toBe('#  text                  spam');
    expect(table[2]).toBe('1  short                 ham (0.900)');
    expect(table[3]).toBe('2  日本語 long long lo…  spam (0.512)');
  });
});
