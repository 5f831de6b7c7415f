import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/bridge/client.js';
import { InputError } from '../../src/errors.js';
import { fixturePath } from '../../fixtures/models.mjs';
import { readOnnx, writeOnnx, ALIGN_LARGE, ALIGN_SMALL } from '../../src/onnx/model-file.js';
import { decodeModel, encodeModel } from '../../src/onnx/proto.js';
import { externalInfo } from '../../src/onnx/tensor.js';
import { findUnknownFields } from '../../src/onnx/wire-check.js';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';
import { externalTensor, floatTensor, matmulModel } from '../helpers/onnx-models.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

async function runMatmul(file: string, k: number, rows = 3): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const x = Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i));
  const result = await session.run({ x: new ort.Tensor('float32', x, [rows, k]) });
  await session.release();
  return result.y!.data as Float32Array;
}

describe('lossless ONNX round trips', () => {
  const dir = scratchDir('rfe-onnx-');
  let python: string;
  let client: BridgeClient;

  beforeAll(async () => {
    python = await bridgePython();
    client = await BridgeClient.start({ python });
    await client.request('export', {
      model_dir: fixturePath('tiny-mean-gelu'),
      out_dir: join(dir, 'torchscript'),
      exporter: 'torchscript',
      opset: 17,
      infer_shapes: false,
    });
    await client.request('export', {
      model_dir: fixturePath('tiny-mean-gelu'),
      out_dir: join(dir, 'dynamo'),
      exporter: 'dynamo',
      opset: 18,
    });
    // the same model saved by the onnx package with every tensor in one external file
    await execa(python, [
      '-c',
      'import onnx, sys\nm = onnx.load(sys.argv[1])\nonnx.save(m, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location="w.bin", size_threshold=0)',
      join(dir, 'torchscript', 'multihead-export.onnx'),
      join(dir, 'external.onnx'),
    ]);
  }, 5 * 60_000);
  afterAll(async () => client?.close());

  it.each(['torchscript/multihead-export.onnx', 'dynamo/multihead-export.onnx', 'external.onnx'])(
    '%s decodes and re-encodes byte for byte',
    async (name) => {
      const bytes = readFileSync(join(dir, name));
      const onnx = await readOnnx(join(dir, name));
      expect(sameBytes(encodeModel(onnx.model), bytes)).toBe(true);
      expect(onnx.model.graph!.node!.length).toBeGreaterThan(50);
    },
  );

  it('the dynamo export carries IR 10+ fields and still round-trips', async () => {
    const onnx = await readOnnx(join(dir, 'dynamo', 'multihead-export.onnx'));
    expect(Number(onnx.model.ir_version)).toBeGreaterThanOrEqual(10);
  });

  it('locates external tensors written by the onnx package', async () => {
    const onnx = await readOnnx(join(dir, 'external.onnx'));
    expect(onnx.external.size).toBe(onnx.model.graph!.initializer!.length);
    const ranges = [...onnx.external.values()];
    expect(new Set(ranges.map((range) => range.location))).toEqual(new Set(['w.bin']));
  });

  it('refuses a file with a field the schema does not know, at the top level or nested', async () => {
    const bytes = readFileSync(join(dir, 'torchscript', 'multihead-export.onnx'));
    // field 99, varint 1, appended to ModelProto
    const topLevel = Buffer.concat([bytes, Buffer.from([0x98, 0x06, 0x01])]);
    expect(findUnknownFields(topLevel)).toEqual([
      { path: 'ModelProto', type: 'ModelProto', fieldNumber: 99, wireType: 0 },
    ]);
    writeFileSync(join(dir, 'unknown.onnx'), topLevel);
    const run = await runCli(['inspect', join(dir, 'unknown.onnx')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(
      /unknown\.onnx: field 99 \(wire type 0\) of onnx\.ModelProto at ModelProto is not in the ONNX schema/,
    );

    // an unknown field inside a TensorProto: re-encode a tensor with extra bytes
    const model = decodeModel(bytes);
    const tensorType = (await import('../../src/onnx/proto.js')).onnxRoot().lookupType('onnx.TensorProto');
    const tensorBytes = Buffer.concat([
      Buffer.from(tensorType.encode(model.graph!.initializer![0]!).finish()),
      Buffer.from([0xa0, 0x06, 0x07]),
    ]);
    const graphType = (await import('../../src/onnx/proto.js')).onnxRoot().lookupType('onnx.GraphProto');
    const graphBytes = Buffer.concat([
      Buffer.from(graphType.encode({ ...model.graph!, initializer: model.graph!.initializer!.slice(1) }).finish()),
      Buffer.from([0x2a]),
      encodeVarint(tensorBytes.length),
      tensorBytes,
    ]);
    const modelType = (await import('../../src/onnx/proto.js')).modelType();
    const nested = Buffer.concat([
      Buffer.from(modelType.encode({ ...model, graph: undefined }).finish()),
      Buffer.from([0x3a]),
      encodeVarint(graphBytes.length),
      graphBytes,
    ]);
    expect(findUnknownFields(nested)).toEqual([
      { path: 'ModelProto.graph.initializer', type: 'TensorProto', fieldNumber: 100, wireType: 0 },
    ]);
  });
});

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

describe('external data: write, read back, load in onnxruntime', () => {
  it('moves large tensors to one aligned data file and onnxruntime gives identical outputs', async () => {
    const dir = scratchDir('rfe-ext-');
    const k = 512;
    const n = 600; // 512*600*4 = 1.2 MB: a "large" tensor (64 KiB alignment)
    const w = floatTensor(
      'w',
      Array.from({ length: k * n }, (_, i) => Math.cos(i) / 10),
      [k, n],
    );
    const b = floatTensor(
      'b',
      Array.from({ length: n }, (_, i) => i / 100),
      [n],
    ); // 2400 B: small (4 KiB alignment)
    const tiny = floatTensor('unused_small', [1, 2]); // below the threshold: stays inline
    const model = matmulModel(w, b, k, n);
    model.graph!.initializer!.push(tiny);
    writeFileSync(join(dir, 'inline.onnx'), encodeModel(model));

    const source = await readOnnx(join(dir, 'inline.onnx'));
    const written = await writeOnnx(join(dir, 'model.onnx'), source.model, source.external, { externalData: 'always' });
    expect(written.externalTensors).toBe(2);
    expect(written.dataFile).toBe(join(dir, 'model_weights.bin'));

    const back = await readOnnx(join(dir, 'model.onnx'));
    const data = readFileSync(join(dir, 'model_weights.bin'));
    const byName = new Map(back.model.graph!.initializer!.map((t) => [t.name, t]));
    const wInfo = externalInfo(byName.get('w')!);
    const bInfo = externalInfo(byName.get('b')!);
    expect(wInfo.offset % ALIGN_LARGE).toBe(0);
    expect(bInfo.offset % ALIGN_SMALL).toBe(0);
    expect(sameBytes(data.subarray(wInfo.offset, wInfo.offset + wInfo.length!), w.raw_data!)).toBe(true);
    expect(sameBytes(data.subarray(bInfo.offset, bInfo.offset + bInfo.length!), b.raw_data!)).toBe(true);
    expect(byName.get('unused_small')!.raw_data!.length).toBe(8);

    expect(Array.from(await runMatmul(join(dir, 'model.onnx'), k))).toEqual(
      Array.from(await runMatmul(join(dir, 'inline.onnx'), k)),
    );

    // and back to inline: streamed from the data file
    const inlined = await writeOnnx(join(dir, 'again.onnx'), back.model, back.external, { externalData: 'never' });
    expect(inlined.externalTensors).toBe(0);
    expect(sameBytes(readFileSync(join(dir, 'again.onnx')), readFileSync(join(dir, 'inline.onnx')))).toBe(true);
  });

  it(
    'exports the demo-sized tiny model with --external-data; onnxruntime loads <task>_weights.bin by path',
    async () => {
      const out = join(scratchDir(), 'bundle');
      const run = await runCli([
        fixturePath('tiny-cls-relu'),
        '-o',
        out,
        '--external-data',
        '--samples-limit',
        '40',
        '--int8',
        'dynamic',
        '--json',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.tasks.map((t: { weights?: string }) => t.weights)).toEqual([
        'intent_weights.bin',
        'urgent_weights.bin',
      ]);
      const summary = JSON.parse((await runCli(['inspect', join(out, 'intent.onnx'), '--json'])).stdout);
      expect(summary.inlineBytes).toBeLessThan(1024 * 64);
      expect(summary.externalBytes['intent_weights.bin']).toBeGreaterThan(4_000_000);
      expect(summary.outputs).toEqual([{ name: 'logits', type: 'float', shape: ['batch', 4] }]);
    },
    5 * 60_000,
  );
});

describe('external data safety: refused with exit 2 and the tensor name', () => {
  const k = 4;
  const n = 4;
  function write(dir: string, w: ReturnType<typeof externalTensor>, b = externalTensor('b', [n], 'data.bin', 64, 16)) {
    writeFileSync(join(dir, 'm.onnx'), encodeModel(matmulModel(w, b, k, n)));
  }
  function setup(): string {
    const root = scratchDir('rfe-safety-');
    const dir = join(root, 'model');
    mkdirSync(dir);
    writeFileSync(join(dir, 'data.bin'), Buffer.alloc(128));
    writeFileSync(join(root, 'secret.bin'), Buffer.alloc(128));
    return dir;
  }
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    [
      'an absolute location',
      (dir) => write(dir, externalTensor('w', [k, n], join(dir, 'data.bin'), 0, 64)),
      /tensor "w": external data location ".*data\.bin" is absolute/,
    ],
    [
      'a location with ..',
      (dir) => write(dir, externalTensor('w', [k, n], '../secret.bin', 0, 64)),
      /tensor "w": external data location "\.\.\/secret\.bin" contains "\.\."/,
    ],
    [
      'a symlink out of the model dir',
      (dir) => {
        symlinkSync(join(dir, '..', 'secret.bin'), join(dir, 'link.bin'));
        write(dir, externalTensor('w', [k, n], 'link.bin', 0, 64));
      },
      /tensor "w": external data location "link\.bin" escapes the model directory/,
    ],
    [
      'a range past the end of the file',
      (dir) => write(dir, externalTensor('w', [k, n], 'data.bin', 100, 64)),
      /tensor "w": external data range 100\+64 points past the end of "data\.bin" \(128 bytes\)/,
    ],
    [
      'a missing data file',
      (dir) => write(dir, externalTensor('w', [k, n], 'gone.bin', 0, 64)),
      /tensor "w": external data file "gone\.bin" does not exist/,
    ],
    [
      'a length that disagrees with the shape',
      (dir) => write(dir, externalTensor('w', [k, n], 'data.bin', 0, 32)),
      /tensor "w": external data holds 32 bytes but the tensor's shape and type need 64/,
    ],
    [
      'overlapping ranges',
      (dir) => write(dir, externalTensor('w', [k, n], 'data.bin', 0, 64), externalTensor('b', [n], 'data.bin', 48, 16)),
      /tensors "w" and "b" have overlapping external data ranges in "data\.bin"/,
    ],
    [
      'duplicate ranges',
      (dir) => write(dir, externalTensor('w', [k], 'data.bin', 0, 16), externalTensor('b', [n], 'data.bin', 0, 16)),
      /tensors "w" and "b" have duplicate external data ranges/,
    ],
  ];
  it.each(cases)('%s', async (_name, make, message) => {
    const dir = setup();
    make(dir);
    const error = await readOnnx(join(dir, 'm.onnx')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(message);
    const run = await runCli(['inspect', join(dir, 'm.onnx')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('accepts a safe file with offset and length omitted (whole file)', async () => {
    const dir = setup();
    writeFileSync(join(dir, 'w.bin'), Buffer.alloc(64));
    write(dir, externalTensor('w', [k, n], 'w.bin'), externalTensor('b', [n], 'data.bin', 64, 16));
    const onnx = await readOnnx(join(dir, 'm.onnx'));
    expect([...onnx.external.values()].map((r) => [r.location, r.offset, r.length])).toEqual([
      ['w.bin', 0, 64],
      ['data.bin', 64, 16],
    ]);
  });
});
