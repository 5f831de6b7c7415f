import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseDelimited } from '../../src/samples/csv.js';
import { mergeSamples } from '../../src/samples/merge.js';
import { parseSamplesBytes, readSamplesFile, type ReadSamplesOptions } from '../../src/samples/read.js';

const MODEL: ReadSamplesOptions = {
  labels: { sentiment: ['negative', 'positive'], topic: ['sports', 'music', 'politics', 'science', 'travel'] },
};
const ONE_TASK: ReadSamplesOptions = { labels: { topic: ['sports', 'music', 'travel'] } };

const parse = (file: string, content: string | Uint8Array, options: ReadSamplesOptions = MODEL) =>
  parseSamplesBytes(file, typeof content === 'string' ? Buffer.from(content) : content, options);

/** The InputError's message, after checking that it names `file` and is an exit-2 input error. */
function refusal(file: string, content: string | Uint8Array, options: ReadSamplesOptions = MODEL): string {
  return caught(() => parse(file, content, options), file);
}

function caught(run: () => unknown, file: string): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as InputError).details.file).toBe(file);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('not refused');
}

const tempDir = () => mkdtempSync(join(process.env.RFE_TEST_TMP ?? tmpdir(), 'rfe-samples-'));
const sorted = (samples: ReadonlyArray<{ text: string; labels: Record<string, string> }>) =>
  samples
    .map(({ text, labels }) => ({ text, labels }))
    .sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));

describe('samples formats give the same samples', () => {
  const gold: Array<{ text: string; sentiment?: string; topic?: string }> = [
    { text: 'plain words', sentiment: 'positive', topic: 'sports' },
    { text: 'a comma, inside', sentiment: 'negative', topic: 'music' },
    { text: 'a\ttab inside', sentiment: 'positive' },
    { text: 'she said "hi"', topic: 'travel' },
    { text: 'two\nlines', sentiment: 'negative', topic: 'science' },
  ];
  const expected = sorted(gold.map(({ text, ...labels }) => ({ text, labels: labels })));
  const field = (value: string, delimiter: string) =>
    /["\n\r]/.test(value) || value.includes(delimiter) ? `"${value.replace(/"/g, '""')}"` : value;
  const table = (delimiter: string, columns: Array<'text' | 'sentiment' | 'topic'>, eol = '\n') =>
    [columns.join(delimiter), ...gold.map((row) => columns.map((c) => field(row[c] ?? '', delimiter)).join(delimiter))]
      .join(eol)
      .concat(eol);
  const seed = JSON.stringify(
    {
      sentiment: gold.filter((row) => row.sentiment).map((row) => ({ text: row.text, label: row.sentiment })),
      topic: gold.filter((row) => row.topic).map((row) => ({ text: row.text, label: row.topic })),
    },
    null,
    2,
  );
  const jsonl = gold
    .map(({ text, ...labels }) => JSON.stringify({ text, labels }))
    .join('\n')
    .concat('\n');

  it('seed JSON, JSONL, CSV, TSV (quoted comma, tab, quote, newline) and two files, one per task', () => {
    const one = (file: string, content: string) => mergeSamples([{ file, records: parse(file, content) }]);
    expect(sorted(one('/d/seed.json', seed))).toEqual(expected);
    expect(sorted(one('/d/s.jsonl', jsonl))).toEqual(expected);
    expect(sorted(one('/d/s.csv', table(',', ['text', 'sentiment', 'topic'])))).toEqual(expected);
    expect(sorted(one('/d/s.csv', table(',', ['topic', 'text', 'sentiment'], '\r\n')))).toEqual(expected);
    expect(sorted(one('/d/s.tsv', table('\t', ['text', 'topic', 'sentiment'])))).toEqual(expected);
    const split = mergeSamples([
      { file: '/d/a.csv', records: parse('/d/a.csv', table(',', ['text', 'sentiment'])) },
      { file: '/d/b.tsv', records: parse('/d/b.tsv', table('\t', ['topic', 'text'])) },
    ]);
    expect(sorted(split)).toEqual(expected);
  });

  it('the CSV really is quoted: the tab, quote and newline texts come from quoted fields', () => {
    const csv = table(',', ['text', 'topic']);
    expect(csv).toContain('"she said ""hi"""');
    expect(csv).toContain('"two\nlines"');
    expect(table('\t', ['text', 'topic'])).toContain('"a\ttab inside"');
    const records = parse('x.csv', csv);
    expect(records.map((record) => record.location)).toEqual(['row 2', 'row 3', 'row 4', 'row 5', 'row 6']);
    expect(parse('x.csv', csv + 'after,music\n').at(-1)?.location).toBe('row 8');
  });
});

describe('mergeSamples', () => {
  it('a text under two tasks in seed data is one sample with both labels, sourced at its first entry', () => {
    const seed =
      '{\n  "sentiment": [\n    {"text": "x", "label": "positive"}\n  ],\n  "topic": [\n    {"text": "x", "label": "music"}\n  ]\n}';
    const records = parse('/d/a.json', seed);
    expect(records).toEqual([
      { text: 'x', labels: { sentiment: 'positive' }, location: 'line 3' },
      { text: 'x', labels: { topic: 'music' }, location: 'line 6' },
    ]);
    expect(mergeSamples([{ file: '/d/a.json', records }])).toEqual([
      { text: 'x', labels: { sentiment: 'positive', topic: 'music' }, source: 'a.json line 3' },
    ]);
  });

  it('the same label again merges; a different label for the same task names both places', () => {
    const a = {
      file: '/d/a.json',
      records: parse('/d/a.json', '{"topic": [\n{"text": "x", "label": "sports"},\n{"text": "x", "label": "sports"}]}'),
    };
    const b = {
      file: '/e/b.jsonl',
      records: parse('/e/b.jsonl', '{"text": "y"}\n{"text": "x", "labels": {"topic": "music"}}\n'),
    };
    expect(mergeSamples([a])).toEqual([{ text: 'x', labels: { topic: 'sports' }, source: 'a.json line 2' }]);
    expect(caught(() => mergeSamples([a, b]), '/e/b.jsonl')).toBe(
      'line 2: task "topic" label "music" contradicts line 2 of a.json, which gives "sports"',
    );
    const within = { file: '/d/c.csv', records: parse('/d/c.csv', 'text,topic\nx,music\ny,\nx,travel\n') };
    expect(caught(() => mergeSamples([within]), '/d/c.csv')).toBe(
      'row 4: task "topic" label "travel" contradicts row 2, which gives "music"',
    );
  });

  it('texts without labels merge with labelled ones; two files with one base name are told apart by path', () => {
    const merged = mergeSamples([
      { file: '/d/s.txt', records: parse('/d/s.txt', 'x\n') },
      { file: '/e/s.txt', records: parse('/e/s.txt', '\ny\n') },
      { file: '/d/t.jsonl', records: parse('/d/t.jsonl', '{"text": "x", "labels": {"topic": "music"}}') },
    ]);
    expect(merged).toEqual([
      { text: 'x', labels: { topic: 'music' }, source: '/d/s.txt line 1' },
      { text: 'y', labels: {}, source: '/e/s.txt line 2' },
    ]);
  });
});

describe('errors of every format', () => {
  it('extension, empty file, blank lines only, invalid UTF-8 (by line, blank lines counted)', () => {
    expect(refusal('/d/s.xyz', 'x')).toBe(
      'unsupported samples format ".xyz" (use .json seed data, .jsonl, .csv, .tsv or .txt)',
    );
    expect(refusal('/d/samples', 'x')).toMatch(/^the samples file has no extension/);
    expect(parse('/d/S.TXT', 'x')).toHaveLength(1);
    for (const file of ['/d/s.txt', '/d/s.jsonl', '/d/s.json', '/d/s.csv', '/d/s.tsv']) {
      expect(refusal(file, '')).toBe('the samples file is empty');
      expect(refusal(file, Buffer.from([0xef, 0xbb, 0xbf]))).toBe('the samples file is empty');
      expect(refusal(file, '\n  \r\n\n')).toBe('the samples file has no texts (only blank lines)');
      const bad = Buffer.concat([
        Buffer.from('{"x": [\r\n\r\n"ok", "'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"]}\n'),
      ]);
      expect(refusal(file, bad)).toBe('line 3 is not valid UTF-8');
    }
    expect(refusal('/d/s.csv', 'text,topic\n')).toBe('the samples file has no texts (only a header)');
    expect(refusal('/d/s.json', '{"topic": []}')).toBe('the samples file has no texts (the seed data has no entries)');
  });

  it('missing and unreadable files, with the absolute path', async () => {
    const dir = tempDir();
    await expect(readSamplesFile(join(dir, 'nope.csv'), MODEL)).rejects.toMatchObject({
      message: 'the samples file does not exist',
      details: { file: join(dir, 'nope.csv') },
    });
    mkdirSync(join(dir, 'dir.txt'));
    await expect(readSamplesFile(join(dir, 'dir.txt'), MODEL)).rejects.toThrow(
      'the samples file cannot be read (EISDIR)',
    );
    writeFileSync(join(dir, 's.jsonl'), '{"text": "a", "labels": {"topic": "sports"}}\n');
    expect(await readSamplesFile(join(dir, 's.jsonl'), MODEL)).toEqual([
      { text: 'a', labels: { topic: 'sports' }, location: 'line 1' },
    ]);
  });

  it('seed JSON: syntax errors located, wrong shapes, tasks and labels the model lacks', () => {
    expect(
      refusal(
        '/d/a.json',
        '{\n  "topic": [\n    {"text": "a", "label": "music"},\n    {"text": "b" "label": "x"}\n  ]\n}',
      ),
    ).toMatch(
      /^line 4: the samples file is not JSON: Expected ',' or '}' after property value in JSON at position \d+/,
    );
    expect(refusal('/d/a.json', '{\n"topic": [\n  tru\n]}')).toMatch(
      /^line 3: the samples file is not JSON: Unexpected token/,
    );
    expect(refusal('/d/a.json', '{"topic": [{"text": "a", "label": "music"}]}\n\n x')).toMatch(/^line 3: .*not JSON/);
    expect(refusal('/d/a.json', '\n[{"text": "a"}]')).toBe(
      'line 2: expected seed data: an object of task -> [{"text", "label"}], not an array',
    );
    expect(refusal('/d/a.json', '{\n"topic": {"text": "a"}}')).toBe(
      'line 2: task "topic" must be an array of {"text", "label"} entries, not an object',
    );
    const entries = (...lines: string[]) =>
      `{\n  "sentiment": [{"text": "ok", "label": "positive"}],\n  "topic": [\n${lines.join(',\n')}\n]}`;
    expect(refusal('/d/a.json', entries('"just text"'))).toBe(
      'line 4: entry 1 of task "topic" must be an object {"text", "label"}, not the string "just text"',
    );
    expect(refusal('/d/a.json', entries('{"text": "a", "label": "music"}', '{"txt": "b", "label": "music"}'))).toBe(
      'line 5: entry 2 of task "topic" has no "text" string',
    );
    expect(refusal('/d/a.json', entries('{"text": "a"}'))).toBe(
      'line 4: entry 1 of task "topic" has no "label" string',
    );
    expect(refusal('/d/a.json', entries('{"text": "a",\n "label": 3}'))).toBe(
      'line 4: the label of task "topic" must be a label name (a string), not the number 3',
    );
    expect(refusal('/d/a.json', entries('{"text": "a", "label": "music"}', '  {"text": "b", "label": "sprots"}'))).toBe(
      'line 5: task "topic" has no label "sprots" (labels: music, politics, science, sports, travel)',
    );
    expect(refusal('/d/a.json', '{\n"sentiment": [],\n\n"topc": [{"text": "a", "label": "x"}]}')).toBe(
      'line 4: task "topc" is not a task of the model (tasks: sentiment, topic)',
    );
    expect(refusal('/d/a.json', '{"topic": [],\n"sentiment": [],\n"topic": [{"text": "a", "label": "music"}]}')).toBe(
      'line 3: task "topic" appears twice (first on line 1)',
    );
  });

  it('lists at most 12 labels, then "..."', () => {
    const many = { labels: { t: Array.from({ length: 20 }, (_, index) => `l${String(index).padStart(2, '0')}`) } };
    expect(refusal('/d/a.jsonl', '{"text": "a", "label": "zz"}', many)).toBe(
      'line 1: task "t" has no label "zz" (labels: l00, l01, l02, l03, l04, l05, l06, l07, l08, l09, l10, l11, ...)',
    );
  });

  it('JSONL: the current messages, the one-task "label", unknown tasks and labels', () => {
    expect(refusal('/d/a.jsonl', '{"text": "a"}\n\n{"text": \n')).toBe('line 3 is not JSON');
    expect(refusal('/d/a.jsonl', '{"text": "a"}\r\n\r\n["a"]\r\n')).toBe('line 3 has no "text" string');
    expect(refusal('/d/a.ndjson', '{"text": 5}')).toBe('line 1 has no "text" string');
    expect(refusal('/d/a.jsonl', '{"text": "a"}\n{"text": "b", "label": "music"}')).toBe(
      'line 2: "label" needs a one-task model; use "labels": {"<task>": ...}',
    );
    expect(parse('/d/a.jsonl', '{"text": "b", "label": "music"}\n{"text": "c", "label": null}', ONE_TASK)).toEqual([
      { text: 'b', labels: { topic: 'music' }, location: 'line 1' },
      { text: 'c', labels: {}, location: 'line 2' },
    ]);
    expect(refusal('/d/a.jsonl', '{"text": "b", "label": "x", "labels": {}}', ONE_TASK)).toBe(
      'line 1: give "label" or "labels", not both',
    );
    expect(refusal('/d/a.jsonl', '\n{"text": "b", "labels": ["music"]}')).toBe(
      'line 2: "labels" must be an object of task -> label name, not an array',
    );
    expect(refusal('/d/a.jsonl', '{"text": "b", "labels": {"topc": "music"}}')).toBe(
      'line 1: task "topc" is not a task of the model (tasks: sentiment, topic)',
    );
    expect(refusal('/d/a.jsonl', '{"text": "b", "labels": {"topic": "sprots"}}')).toMatch(
      /^line 1: task "topic" has no label "sprots" \(labels: music, /,
    );
    expect(refusal('/d/a.jsonl', '{"text": "b", "labels": {"topic": 2}}')).toBe(
      'line 1: the label of task "topic" must be a label name (a string), not the number 2',
    );
  });

  it('CSV/TSV: header problems', () => {
    expect(refusal('/d/a.csv', 'text,topic, text \nx,music,y\n')).toBe(
      'header: column "text" appears twice (columns 1 and 3)',
    );
    expect(refusal('/d/a.tsv', 'id\tsentence\ttopic\n1\tx\tmusic\n')).toBe(
      'header: no column "text" (columns: id, sentence, topic); name it with --text-column',
    );
    expect(refusal('/d/a.csv', 'sentence,topic\nx,music\n', { ...MODEL, textColumn: 'text2' })).toBe(
      'header: no column "text2" (columns: sentence, topic); name it with --text-column',
    );
    expect(refusal('/d/a.csv', 'text,topic\nx,music\n', { ...MODEL, labelColumns: { topic: 'y' } })).toBe(
      'header: no column "y" for task "topic" (--label-column topic=y)',
    );
    expect(refusal('/d/a.csv', 'text,topic\nx,music\n', { ...MODEL, labelColumns: { topc: 'topic' } })).toBe(
      'header: --label-column topc=topic: task "topc" is not a task of the model (tasks: sentiment, topic)',
    );
  });

  it('CSV/TSV: rows located by the physical line they start on, CRLF as LF', () => {
    for (const eol of ['\n', '\r\n']) {
      const lines = (...rows: string[]) => rows.join(eol) + eol;
      const head = ['text,sentiment,topic,id', '"multi', 'line",positive,music,1', '', 'b,,,2'];
      expect(refusal('/d/a.csv', lines(...head, 'c,positive,music', 'd,,,4'))).toBe(
        'row 6: 3 fields, the header has 4',
      );
      expect(refusal('/d/a.csv', lines(...head, 'short'))).toBe('row 6: 1 field, the header has 4');
      expect(refusal('/d/a.csv', lines(...head, '"open,positive,music,5', 'more'))).toBe(
        'row 6: unterminated quoted field (field 1)',
      );
      expect(refusal('/d/a.csv', lines(...head, 'e,positive,"music"x,5'))).toBe(
        'row 6: field 3 has text after its closing quote (a quote inside a quoted field is written "")',
      );
      expect(refusal('/d/a.csv', lines(...head, 'e,positive,sprots,5'))).toBe(
        'row 6: task "topic" has no label "sprots" (labels: music, politics, science, sports, travel)',
      );
      const bad = Buffer.concat([Buffer.from(lines(...head)), Buffer.from([0xff]), Buffer.from(',,,\n')]);
      expect(refusal('/d/a.csv', bad)).toBe('line 6 is not valid UTF-8');
      expect(parse('/d/a.csv', lines(...head)).map((record) => record.location)).toEqual(['row 2', 'row 5']);
    }
  });

  it('"__proto__" and "constructor" are tasks or labels only when the model has them', () => {
    expect(refusal('/d/a.jsonl', '{"text": "a", "labels": {"__proto__": "x"}}')).toMatch(
      /^line 1: task "__proto__" is not a task of the model/,
    );
    expect(refusal('/d/a.jsonl', '{"text": "a", "labels": {"topic": "constructor"}}')).toMatch(
      /^line 1: task "topic" has no label "constructor"/,
    );
    expect(refusal('/d/a.json', '{"constructor": [{"text": "a", "label": "x"}]}')).toMatch(
      /^line 1: task "constructor" is not a task of the model/,
    );
    expect(refusal('/d/a.csv', 'text,topic\na,toString\n')).toMatch(/^row 2: task "topic" has no label "toString"/);
    const model = { labels: JSON.parse('{"__proto__": ["constructor"], "constructor": ["hasOwnProperty"]}') };
    const [record] = parse(
      '/d/a.jsonl',
      '{"text": "a", "labels": {"__proto__": "constructor", "constructor": "hasOwnProperty"}}',
      model,
    );
    expect(Object.getPrototypeOf(record!.labels)).toBe(Object.prototype);
    expect(Object.hasOwn(record!.labels, '__proto__')).toBe(true);
    expect(Object.entries(record!.labels)).toEqual([
      ['__proto__', 'constructor'],
      ['constructor', 'hasOwnProperty'],
    ]);
    const [merged] = mergeSamples([{ file: '/d/a.jsonl', records: [record!] }]);
    expect(Object.entries(merged!.labels)).toEqual(Object.entries(record!.labels));
  });
});

describe('CSV/TSV columns', () => {
  it('--text-column and --label-column; other columns ignored; explicit columns win over same-named ones', () => {
    const csv = 'id,sentence,topic,y,notes\n1,hello,music,travel,whatever\n2,bye,,sports,\n';
    expect(parse('/d/a.csv', csv, { ...MODEL, textColumn: 'sentence' })).toEqual([
      { text: 'hello', labels: { topic: 'music' }, location: 'row 2' },
      { text: 'bye', labels: {}, location: 'row 3' },
    ]);
    expect(
      refusal('/d/a.csv', csv, { ...MODEL, textColumn: 'sentence', labelColumns: { topic: 'y', sentiment: 'notes' } }),
    ).toBe('row 2: task "sentiment" has no label "whatever" (labels: negative, positive)');
    expect(
      parse('/d/a.csv', 'sentence,y\nhello,travel\n', {
        ...MODEL,
        textColumn: 'sentence',
        labelColumns: { topic: 'y' },
      }),
    ).toEqual([{ text: 'hello', labels: { topic: 'travel' }, location: 'row 2' }]);
    expect(parse('/d/a.csv', csv, { ...MODEL, textColumn: 'sentence', labelColumns: { topic: 'y' } })).toEqual([
      { text: 'hello', labels: { topic: 'travel' }, location: 'row 2' },
      { text: 'bye', labels: { topic: 'sports' }, location: 'row 3' },
    ]);
  });

  it('a "label" column is the task of a one-task model only; labels are trimmed, empty text cells kept', () => {
    const csv = 'text,label\n" spaced ", music \n"",travel\n';
    expect(parse('/d/a.csv', csv, ONE_TASK)).toEqual([
      { text: ' spaced ', labels: { topic: 'music' }, location: 'row 2' },
      { text: '', labels: { topic: 'travel' }, location: 'row 3' },
    ]);
    expect(parse('/d/a.csv', csv, MODEL).map((record) => record.labels)).toEqual([{}, {}]);
    expect(parse('/d/a.csv', 'text,label,topic\na,sports,music\n', ONE_TASK)[0]!.labels).toEqual({ topic: 'music' });
  });

  it('a text-only CSV: one column, quoted empty text kept, blank lines skipped, BOM and CRLF handled', () => {
    const csv = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('text\r\nfirst\r\n\r\n""\r\n"a\r\nb"\r\nlast'),
    ]);
    expect(parse('/d/a.csv', csv).map(({ text, location }) => [text, location])).toEqual([
      ['first', 'row 2'],
      ['', 'row 4'],
      ['a\r\nb', 'row 5'],
      ['last', 'row 7'],
    ]);
  });

  it('the parser: "" escapes, empty fields, a delimiter at the end, no newline at the end, quotes inside bare fields', () => {
    expect(parseDelimited('a,"b ""c""",,\n"x\ny",z "q" w', ',')).toEqual([
      { line: 1, fields: ['a', 'b "c"', '', ''] },
      { line: 2, fields: ['x\ny', 'z "q" w'] },
    ]);
    expect(parseDelimited('a\t"b,\t"\n', '\t')).toEqual([{ line: 1, fields: ['a', 'b,\t'] }]);
  });
});

describe('labels undefined: texts only', () => {
  it('labels are not read and tasks not checked, in every format', () => {
    const none: ReadSamplesOptions = { labelColumns: { nope: 'missing' } };
    expect(parse('/d/a.json', '{"anything": [{"text": "a", "label": 3}], "else": [{"text": "b"}]}', none)).toEqual([
      { text: 'a', labels: {}, location: 'line 1' },
      { text: 'b', labels: {}, location: 'line 1' },
    ]);
    expect(parse('/d/a.jsonl', '{"text": "a", "label": "x"}\n{"text": "b", "labels": {"t": 1}}', none)).toEqual([
      { text: 'a', labels: {}, location: 'line 1' },
      { text: 'b', labels: {}, location: 'line 2' },
    ]);
    expect(parse('/d/a.tsv', 'text\ttopic\na\tnot-a-label\n', none)).toEqual([
      { text: 'a', labels: {}, location: 'row 2' },
    ]);
    expect(refusal('/d/a.json', '{"t": [{"label": "x"}]}', none)).toBe(
      'line 1: entry 1 of task "t" has no "text" string',
    );
  });
});

describe('scale', () => {
  const rows = 20_000;
  const text = (index: number) => `sample number ${index}, with a "quote" and some more words to make it longer`;

  it(`a ${rows}-row CSV, JSONL and seed JSON parse in well under the bound`, () => {
    const csv = [
      'text,topic,sentiment',
      ...Array.from({ length: rows }, (_, i) => `"${text(i).replace(/"/g, '""')}",music,positive`),
    ].join('\n');
    const jsonl = Array.from({ length: rows }, (_, i) =>
      JSON.stringify({ text: text(i), labels: { topic: 'music' } }),
    ).join('\n');
    const seed = JSON.stringify(
      { topic: Array.from({ length: rows }, (_, i) => ({ text: text(i), label: 'travel' })) },
      null,
      1,
    );
    for (const [file, content] of [
      ['/d/a.csv', csv],
      ['/d/a.jsonl', jsonl],
      ['/d/a.json', seed],
    ] as const) {
      const bytes = Buffer.from(content);
      const started = performance.now();
      const records = parse(file, bytes);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(records).toHaveLength(rows);
      expect(records[rows - 1]!.text).toBe(text(rows - 1));
    }
    const merged = mergeSamples([{ file: '/d/a.csv', records: parse('/d/a.csv', csv) }]);
    expect(merged).toHaveLength(rows);
    expect(parse('/d/a.json', seed)[rows - 1]!.location).toBe(`line ${2 + (rows - 1) * 4 + 1}`);
  });
});
