import { copyFileSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeOnnx } from '../../src/onnx/describe.js';
import { readOnnx, writeOnnx, type OnnxFile } from '../../src/onnx/model-file.js';
import { decodeModel, encodeModel, type TensorProto } from '../../src/onnx/proto.js';
import { expectedByteLength } from '../../src/onnx/tensor.js';
import { runCli, scratchDir } from '../helpers/cli.js';
import { attempt, check, expectUserError, printCases, sharedBundle, STACK_LINE } from './fuzz-support.js';

/** The byte span [start of its tag, end) of ModelProto.graph (field 7) in an encoded model. */
function graphSpan(bytes: Uint8Array): [number, number] {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 === 7 && (tag & 7) === 2) {
      const length = reader.uint32();
      return [start, reader.pos + length];
    }
    reader.skipType(tag & 7);
  }
  throw new Error('no graph field');
}

/**
 * What "accepted" must mean for a mutated file: the reader's model is what a rewrite writes back (nothing
 * dropped, no string turned into U+FFFD), `inspect` can describe it, and every external range it located is
 * a regular file inside the model directory, within its size, as long as the tensor needs, without overlaps.
 */
function expectValidRead(onnx: OnnxFile): void {
  const { model } = onnx;
  const encoded = Buffer.from(encodeModel(model));
  expect(encoded.equals(encodeModel(decodeModel(encoded))), 'a rewrite changes the model').toBe(true);
  const strings = JSON.stringify(model, (_key, value: unknown) => (value instanceof Uint8Array ? undefined : value));
  expect(strings, 'a string of the file was not UTF-8 (a rewrite would change it)').not.toContain('\uFFFD');
  expect(() => summarizeOnnx(onnx)).not.toThrow();
  // offsets and lengths as onnx writes them: plain decimals (onnxruntime would read "1e3" as 1, JavaScript as 1000)
  for (const tensor of onnx.external.keys()) {
    for (const entry of tensor.external_data ?? [])
      if (entry.key === 'offset' || entry.key === 'length') expect(entry.value).toMatch(/^[0-9]+$/);
  }
  const root = realpathSync(onnx.dir);
  const byFile = new Map<string, Array<[number, number]>>();
  for (const [tensor, range] of onnx.external) {
    const rel = relative(root, range.file);
    expect(rel.startsWith('..') || isAbsolute(rel), `${range.file} is outside ${root}`).toBe(false);
    expect(range.location.split(/[\\/]/)).not.toContain('..');
    expect(statSync(range.file).isFile()).toBe(true);
    expect(range.offset + range.length).toBeLessThanOrEqual(statSync(range.file).size);
    expect(range.length).toBe(expectedByteLength(tensor));
    byFile.set(range.file, [...(byFile.get(range.file) ?? []), [range.offset, range.offset + range.length]]);
  }
  for (const ranges of byFile.values()) {
    ranges.sort((a, b) => a[0] - b[0]);
    for (let index = 1; index < ranges.length; index += 1)
      expect(ranges[index]![0]).toBeGreaterThanOrEqual(ranges[index - 1]![1]);
  }
}

describe('fuzz: the ONNX reader (readOnnx) on truncated, mutated and re-pointed real exported files', () => {
  let externalOnnx: Uint8Array; // sentiment.onnx, weights in sentiment_weights.bin
  let inlineOnnx: Uint8Array; // the same model with every weight inline (4 MB)
  let work: string;
  let weightsDir: string;
  let externalTensors: TensorProto[];

  beforeAll(async () => {
    const bundle = await sharedBundle();
    work = scratchDir('rfe-fuzz-onnx-');
    externalOnnx = readFileSync(join(bundle, 'sentiment.onnx'));
    const source = await readOnnx(join(bundle, 'sentiment.onnx'));
    const inlineDir = join(work, 'inline');
    mkdirSync(inlineDir);
    await writeOnnx(join(inlineDir, 'model.onnx'), source.model, source.external, { externalData: 'never' });
    inlineOnnx = readFileSync(join(inlineDir, 'model.onnx'));
    // the model directory the external-data cases use, with symlinks in and out of it
    weightsDir = join(work, 'model');
    const outside = join(work, 'outside');
    mkdirSync(join(weightsDir, 'sub'), { recursive: true });
    mkdirSync(outside);
    copyFileSync(join(bundle, 'sentiment_weights.bin'), join(weightsDir, 'sentiment_weights.bin'));
    copyFileSync(join(bundle, 'sentiment_weights.bin'), join(outside, 'sentiment_weights.bin'));
    symlinkSync(join(outside, 'sentiment_weights.bin'), join(weightsDir, 'link-out.bin'));
    symlinkSync(outside, join(weightsDir, 'linkdir'));
    symlinkSync('sentiment_weights.bin', join(weightsDir, 'link-in.bin'));
    externalTensors = (decodeModel(externalOnnx).graph!.initializer ?? []).filter(
      (tensor) => tensor.data_location === 1,
    );
    expect(externalTensors.length).toBeGreaterThan(10);
  }, 10 * 60_000);

  afterAll(printCases);

  const variants = () => ({ external: externalOnnx, inline: inlineOnnx });
  /** A byte position (modulo the file's length), uniform: fast-check's default integers favour small values. */
  const position = fc.noBias(fc.nat({ max: 2 ** 30 }));

  // truncation: a cut inside the graph is always refused (exit 2, file named); a cut between top-level fields may decode, and is then valid
  it('truncated files: refused with the file named, or (cut between top-level fields) a valid read', async () => {
    let refused = 0;
    await check(
      'ONNX truncation',
      fc.asyncProperty(fc.constantFrom<'external' | 'inline'>('external', 'inline'), position, async (kind, where) => {
        const original = variants()[kind];
        const cut = where % original.length;
        const file = join(weightsDir, `truncated-${kind}.onnx`);
        writeFileSync(file, original.subarray(0, cut));
        const [graphStart, graphEnd] = graphSpan(original);
        const { value: onnx, error } = await attempt(() => readOnnx(file));
        if (cut > graphStart && cut < graphEnd) {
          expectUserError(error, file);
          refused += 1;
        } else if (error) {
          expectUserError(error, file);
          refused += 1;
        } else {
          expectValidRead(onnx!);
        }
      }),
      60,
    );
    expect(refused).toBeGreaterThan(30);
  });

  // byte mutations: refused with the file named, or accepted and still valid (a changed weight byte, a renamed node)
  it('files with 1-8 random bytes changed: refused with the file named, or a valid read', async () => {
    let accepted = 0;
    await check(
      'ONNX byte mutation',
      fc.asyncProperty(
        fc.constantFrom<'external' | 'inline'>('external', 'inline'),
        fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        async (kind, changes) => {
          const bytes = Uint8Array.from(variants()[kind]);
          for (const [where, value] of changes) bytes[where % bytes.length] = value;
          // beside the weights, so that external references still resolve
          const file = join(weightsDir, `mutated-${kind}.onnx`);
          writeFileSync(file, bytes);
          const { value: onnx, error } = await attempt(() => readOnnx(file));
          if (error) expectUserError(error, file);
          else {
            expectValidRead(onnx!);
            accepted += 1;
          }
        },
      ),
      80,
    );
    expect(accepted, 'mutations of float weights are accepted').toBeGreaterThan(0);
  });

  const ESCAPING = [
    '../sentiment_weights.bin',
    'sub/../../model/sentiment_weights.bin',
    'link-out.bin',
    'linkdir/sentiment_weights.bin',
    'sub\\..\\..\\outside\\sentiment_weights.bin',
  ];
  const location = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        'sentiment_weights.bin',
        './sentiment_weights.bin',
        'link-in.bin',
        'sub/../sentiment_weights.bin',
      ),
    },
    { weight: 2, arbitrary: fc.constantFrom('missing.bin', 'sub', '', 'C:\\weights.bin') },
    { weight: 3, arbitrary: fc.constantFrom('ABSOLUTE', ...ESCAPING) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  /** An offset or length: the original value, none, or another (in or out of range, or not a decimal integer). */
  const number = fc.oneof(
    { weight: 4, arbitrary: fc.constant('KEEP') },
    { weight: 1, arbitrary: fc.constant('DROP') },
    { weight: 2, arbitrary: fc.noBias(fc.nat({ max: 5_000_000 })).map(String) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('0', '-1', '1e3', '0x10', ' 4', '', 'abc', '4096.5', '99999999999999999999'),
    },
    // the original value spelled another way, which JavaScript's Number() reads alike and onnxruntime does not
    { weight: 1, arbitrary: fc.constantFrom('HEX', 'EXPONENT', 'SPACE', 'POINT') },
  );
  const entries = fc.record({ location, offset: number, length: number });

  // random external-data tables: every location that leaves the directory (.., absolute, symlinks out) is refused; accepted tables are valid
  it('random external-data tables: escapes always refused, bad ranges refused, accepted tables valid', async () => {
    const seen = { refused: 0, accepted: 0, escapes: 0 };
    await check(
      'ONNX external-data table',
      fc.asyncProperty(
        fc.array(fc.tuple(fc.noBias(fc.nat({ max: 1000 })), entries), { minLength: 1, maxLength: 4 }),
        async (edits) => {
          const model = decodeModel(externalOnnx);
          const tensors = (model.graph!.initializer ?? []).filter((tensor) => tensor.data_location === 1);
          let escapes = false;
          for (const [index, entry] of edits) {
            const tensor = tensors[index % tensors.length]!;
            const previous = new Map((tensor.external_data ?? []).map((e) => [e.key, e.value]));
            const where = entry.location === 'ABSOLUTE' ? join(weightsDir, 'sentiment_weights.bin') : entry.location;
            if (entry.location === 'ABSOLUTE' || ESCAPING.includes(entry.location)) escapes = true;
            const respell = (original: string | undefined, how: string) => {
              if (original === undefined) return undefined;
              const n = Number(original);
              return how === 'HEX'
                ? `0x${n.toString(16)}`
                : how === 'EXPONENT'
                  ? n.toExponential()
                  : how === 'SPACE'
                    ? ` ${original}`
                    : `${original}.0`;
            };
            const value = (key: string, choice: string) =>
              choice === 'KEEP'
                ? previous.get(key)
                : choice === 'DROP'
                  ? undefined
                  : ['HEX', 'EXPONENT', 'SPACE', 'POINT'].includes(choice)
                    ? respell(previous.get(key), choice)
                    : choice;
            const offset = value('offset', entry.offset);
            const length = value('length', entry.length);
            tensor.external_data = [
              { key: 'location', value: where },
              ...(offset !== undefined ? [{ key: 'offset', value: offset }] : []),
              ...(length !== undefined ? [{ key: 'length', value: length }] : []),
            ];
          }
          const file = join(weightsDir, 'table.onnx');
          writeFileSync(file, encodeModel(model));
          const { value: onnx, error } = await attempt(() => readOnnx(file));
          if (escapes) {
            expectUserError(error, file);
            expect(error.details.code).toBe('UNSAFE_EXTERNAL_DATA');
            seen.escapes += 1;
          }
          if (error) {
            expectUserError(error, file);
            seen.refused += 1;
          } else {
            expectValidRead(onnx!);
            seen.accepted += 1;
          }
        },
      ),
      150,
    );
    expect(seen.escapes).toBeGreaterThan(20);
    expect(seen.accepted, 'tables that only re-point to valid ranges are accepted').toBeGreaterThan(0);
  });

  // end to end: `inspect <file.onnx>` (no Python) on a few corrupt files exits 0 or 2, never 1, never a stack trace
  it('rapidfit-export inspect on corrupt ONNX files exits 0 or 2 with the file named, never a stack trace', async () => {
    await check(
      'ONNX inspect CLI',
      fc.asyncProperty(position, fc.integer({ min: 0, max: 255 }), fc.boolean(), async (where, value, truncate) => {
        const bytes = Uint8Array.from(externalOnnx);
        const at = where % bytes.length;
        bytes[at] = value;
        const file = join(weightsDir, 'cli.onnx');
        writeFileSync(file, truncate ? bytes.subarray(0, at) : bytes);
        const run = await runCli(['inspect', file, '--json']);
        expect([0, 2], run.stderr).toContain(run.exitCode);
        expect(run.stderr).not.toMatch(STACK_LINE);
        if (run.exitCode === 2) {
          expect(run.stderr).toContain(file);
          expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { file } });
        } else expect(JSON.parse(run.stdout).file).toBe(file);
      }),
      4,
    );
  }, 120_000);
});
