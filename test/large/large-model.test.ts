import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parityReportSchema } from '../../src/config/report.js';
import { buildFixtures, fixturePath, LARGE_FIXTURE } from '../../fixtures/models.mjs';
import { readExternalBytes } from '../../src/onnx/external-data.js';
import { readOnnx, type OnnxFile } from '../../src/onnx/model-file.js';
import type { TensorProto } from '../../src/onnx/proto.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';
import { tensorValues } from '../helpers/tensor-values.js';

/** The stored bytes of a tensor (raw or external), or undefined when it is held in a typed field. */
async function storedBytes(file: OnnxFile, tensor: TensorProto): Promise<Uint8Array | undefined> {
  const range = file.external.get(tensor);
  if (range) return readExternalBytes(range);
  return tensor.raw_data && tensor.raw_data.length > 0 ? tensor.raw_data : undefined;
}

describe('a real model over 2 GB (XLM-R-large-sized encoder + RapidFit heads)', () => {
  const out = join(scratchDir('rfe-large-'), 'bundle');

  beforeAll(async () => {
    await buildFixtures([LARGE_FIXTURE]);
  }, 15 * 60_000);

  it(
    'exports with external data automatically, onnxruntime-node loads it, parity holds',
    async () => {
      const run = await runCli(
        [fixturePath(LARGE_FIXTURE), '-o', out, '--samples-limit', '16', '--int8', 'dynamic', '--no-latency', '--json'],
        {},
        30 * 60_000,
      );
      expect(run.exitCode, run.stderr).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.tasks.map((t: { weights?: string }) => t.weights)).toEqual([
        'sentiment_weights.bin',
        'spam_weights.bin',
      ]);
      expect(statSync(join(out, 'sentiment_weights.bin')).size).toBeGreaterThan(2 ** 31);
      expect(statSync(join(out, 'sentiment.onnx')).size).toBeLessThan(4 * 2 ** 20);
      const report = parityReportSchema.parse(JSON.parse(readFileSync(join(out, 'parity-report.json'), 'utf8')));
      for (const task of report.tasks) expect(task.comparisons.fp32!.maxAbsDiff!).toBeLessThanOrEqual(1e-4);
      const result = JSON.parse(run.stdout) as { timings: Record<string, number> };
      process.stderr.write(`[large] timings ${JSON.stringify(result.timings)}\n`);
    },
    30 * 60_000,
  );

  it(
    "its streamed INT8 graph is bit-identical to ONNX Runtime's quantize_dynamic of the same FP32 file",
    async () => {
      // INT8 is ~560 MB, so ORT writes one protobuf (with --external-data it would also externalize Constant
      // attributes, which readOnnx refuses: only initializers may be external here)
      const theirs = join(scratchDir('rfe-large-ort-'), 'sentiment_int8.onnx');
      const ort = await execa(await bridgePython(), [
        join(PACKAGE_ROOT, 'fixtures', 'ort_quantize.py'),
        join(out, 'sentiment.onnx'),
        theirs,
      ]);
      process.stderr.write(`[large] ORT quantize_dynamic ${ort.stdout}\n`);
      const [a, b] = [await readOnnx(join(out, 'sentiment_int8.onnx')), await readOnnx(theirs)];
      const ortTensors = new Map(b.model.graph!.initializer!.map((t) => [t.name, t]));
      expect(a.model.graph!.initializer!.map((t) => t.name).sort()).toEqual([...ortTensors.keys()].sort());
      let comparedBytes = 0;
      for (const mine of a.model.graph!.initializer!) {
        const other = ortTensors.get(mine.name)!;
        const [x, y] = [await storedBytes(a, mine), await storedBytes(b, other)];
        if (x && y && mine.data_type === other.data_type) {
          expect(Buffer.compare(x, y), `${mine.name} differs`).toBe(0);
          comparedBytes += x.length;
        } else
          expect(await tensorValues(mine, a.external.get(mine))).toEqual(
            await tensorValues(other, b.external.get(other)),
          );
      }
      expect(comparedBytes).toBeGreaterThan(500e6);
      const nodes = (m: OnnxFile) =>
        m.model.graph!.node!.map((n) => `${n.op_type}|${n.input!.join(',')}|${n.output!.join(',')}`).sort();
      expect(nodes(a)).toEqual(nodes(b));
    },
    10 * 60_000,
  );
});
