// bench/int8-fidelity: INT8 methods side by side on one run's bundle: ONNX Runtime's Python quantize_dynamic
// and its 8-bit MatMulNBits quantizer, ours (every fixed --int8 method) and the graph `--int8 auto` chose.
// For each: top-1 agreement with PyTorch on the judged split (texts auto did not choose on), latency in
// onnxruntime-node at batch 1 and 32 (128 tokens) as a ratio to FP32 measured in the same loop, size share
// and quantize time.
//   npm run build && node bench/int8-fidelity.mjs [--fixture minilm-fortunes] [--task topic,lang] [--rounds 2]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPython } from '../dist/bridge/python.js';
import { ensureBridgeEnvironment } from '../dist/bridge/venv.js';
import { buildFixtures, fixturePath, fortunesHeldoutPath } from '../fixtures/models.mjs';
import { readOnnx } from '../dist/onnx/model-file.js';
import { measureSpeedup } from '../dist/quantize/auto/latency.js';
import { INT8_MODES } from '../dist/quantize/policy.js';
import { fixedMethodOptions } from '../dist/quantize/policy.js';
import { DEFAULT_QUANTIZE_OPTIONS } from '../dist/quantize/options.js';
import { writeQuantizedGraph } from '../dist/quantize/quantize-model.js';
import { compareWithReference } from '../dist/verify/parity.js';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const fixture = option('--fixture', 'minilm-fortunes');
const rounds = Number(option('--rounds', '2'));
const python = (await ensureBridgeEnvironment(await findPython())).python;
await buildFixtures([fixture]);
const work = mkdtempSync(join(tmpdir(), 'bench-int8-'));
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const bundle = join(work, 'bundle');
const samples = fixture === 'minilm-fortunes' ? ['--samples', fortunesHeldoutPath()] : [];
process.stderr.write(`exporting ${fixture} with --int8 auto ...\n`);
try {
  execFileSync(process.execPath, [cli, fixturePath(fixture), '-o', bundle, '--no-latency', '--json', ...samples], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
} catch {
  process.stderr.write('the auto run did not pass its gates; benchmarking its unverified candidate\n');
}
const dir = existsSync(bundle) ? bundle : `${bundle}.unverified`;
const report = JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8'));
const tasks = option('--task', report.tasks.map((t) => t.task).join(',')).split(',');
const batches = JSON.parse(readFileSync(join(dir, 'verification.json'), 'utf8')).batches.filter(
  (b) => b.split !== 'calibration',
);

for (const task of tasks) {
  const fp32 = join(dir, `${task}.onnx`);
  const fp32Bytes = statSync(fp32).size;
  const methods = [
    [
      'ORT quantize_dynamic (Python)',
      (out) =>
        JSON.parse(
          execFileSync(python, [join(import.meta.dirname, '..', 'fixtures', 'ort_quantize.py'), fp32, out], {
            encoding: 'utf8',
          }),
        ).seconds,
    ],
    [
      'ORT MatMulNBits 8-bit, block 32 (Python)',
      (out) =>
        JSON.parse(
          execFileSync(python, [join(import.meta.dirname, '..', 'fixtures', 'ort_matmul_nbits.py'), fp32, out], {
            encoding: 'utf8',
          }),
        ).seconds,
    ],
    ...INT8_MODES.filter((mode) => mode !== 'auto').map((mode) => [
      `ours --int8 ${mode}`,
      async (out) => {
        const started = performance.now();
        await writeQuantizedGraph(
          await readOnnx(fp32),
          out,
          fixedMethodOptions(mode, DEFAULT_QUANTIZE_OPTIONS),
          'bench',
        );
        return (performance.now() - started) / 1000;
      },
    ]),
    [
      `ours --int8 auto (${report.int8.method} + ${Object.keys(report.int8.higherPrecision).length} at higher precision)`,
      () => report.timings.quantize,
    ],
  ];

  const rows = [];
  for (const [label, make] of methods) {
    const out = label.startsWith('ours --int8 auto')
      ? join(dir, `${task}_int8.onnx`)
      : join(work, `${rows.length}.onnx`);
    const seconds = await make(out);
    const metrics = (await compareWithReference(batches, { [task]: { int8: out } }))[task].int8;
    const ratios = { 1: [], 32: [] };
    for (let round = 0; round < rounds; round += 1) {
      for (const batch of [1, 32]) {
        const runs = batch === 1 ? 20 : 3;
        ratios[batch].push(await measureSpeedup(fp32, out, batch, 128, runs));
      }
    }
    const range = (values) => `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}x`;
    rows.push({
      label,
      agreement: metrics.top1Agreement,
      confident: metrics.confidentAgreement,
      samples: metrics.samples,
      b1: range(ratios[1]),
      b32: range(ratios[32]),
      size: statSync(out).size / fp32Bytes,
      seconds,
    });
    process.stderr.write(`${task}, ${label}: done\n`);
  }
  console.log(
    `\n${fixture}, task ${task}: ${batches.reduce((n, b) => n + b.texts.length, 0)} judged texts; speed-up = median of FP32 ms / INT8 ms over alternating runs, range over ${rounds} rounds\n`,
  );
  console.log(
    '| method | top-1 agreement with PyTorch | same, margin >= 0.1 | speed-up batch 1 | speed-up batch 32 | size vs FP32 | quantize time |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${(r.agreement * 100).toFixed(2)}% | ${r.confident === undefined ? '-' : `${(r.confident * 100).toFixed(2)}%`} | ${r.b1} | ${r.b32} | ${(r.size * 100).toFixed(1)}% | ${r.seconds.toFixed(1)} s |`,
    );
  }
}
rmSync(work, { recursive: true, force: true });
