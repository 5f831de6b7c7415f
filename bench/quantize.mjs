// bench/quantize: rapidfit-export's TypeScript quantizer vs ONNX Runtime's Python quantize_dynamic on
// the same FP32 files, side by side in one run (wall time and peak RSS of each process), plus INT8 vs
// FP32 size and latency in onnxruntime-node (batch 1 and 32, sequence 128).
//   npm run build && node bench/quantize.mjs [--large] [--rounds 2]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { findPython } from '../dist/bridge/python.js';
import { ensureBridgeEnvironment } from '../dist/bridge/venv.js';
import { buildFixtures, fixturePath, LARGE_FIXTURE } from '../fixtures/models.mjs';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 2;
const large = args.includes('--large');
const python = (await ensureBridgeEnvironment(await findPython())).python;
const work = mkdtempSync(join(tmpdir(), 'bench-quantize-'));
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');

function measure(command, commandArgs) {
  try {
    execFileSync('/usr/bin/time', ['-o', join(work, 'time.txt'), '-f', '%e %M', command, ...commandArgs], {
      stdio: 'ignore',
    });
  } catch (error) {
    throw new Error(`${command} ${commandArgs.join(' ')} failed: ${error.message}`, { cause: error });
  }
  const [seconds, kib] = execFileSync('cat', [join(work, 'time.txt')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()
    .split(' ')
    .map(Number);
  return { seconds, rssMiB: kib / 1024 };
}

async function fp32Graph(fixture, extra = []) {
  await buildFixtures([fixture]);
  const out = join(work, `${fixture}-bundle`);
  execFileSync(
    process.execPath,
    [cli, fixturePath(fixture), '-o', out, '--quantize', 'none', '--samples-limit', '4', '--no-progress', ...extra],
    { stdio: 'ignore' },
  );
  return join(out, 'sentiment.onnx');
}

function compare(label, input) {
  const rows = { ours: [], ort: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? ['ours', 'ort'] : ['ort', 'ours'];
    for (const who of order) {
      const out = join(work, `${label}-${who}-${round}.onnx`);
      rows[who].push(
        who === 'ours'
          ? measure(process.execPath, [cli, 'quantize', input, '-o', out])
          : measure(python, [
              join(import.meta.dirname, '..', 'fixtures', 'ort_quantize.py'),
              input,
              out,
              ...(large ? ['--external-data'] : []),
            ]),
      );
      rmSync(out, { force: true });
      rmSync(out.replace(/\.onnx$/, '_weights.bin'), { force: true });
    }
  }
  const best = (list, key) => Math.min(...list.map((r) => r[key]));
  const range = (list, key, digits) =>
    `${Math.min(...list.map((r) => r[key])).toFixed(digits)}-${Math.max(...list.map((r) => r[key])).toFixed(digits)}`;
  const fp32 =
    statSync(input).size +
    (existsSync(input.replace(/\.onnx$/, '_weights.bin'))
      ? statSync(input.replace(/\.onnx$/, '_weights.bin')).size
      : 0);
  console.log(
    `bench/quantize ${label}: FP32 ${(fp32 / 2 ** 20).toFixed(0)} MiB, ${rounds} rounds (order alternates), range over rounds`,
  );
  console.log(`  rapidfit-export : ${range(rows.ours, 'seconds', 2)} s, peak RSS ${range(rows.ours, 'rssMiB', 0)} MiB`);
  console.log(`  ORT Python      : ${range(rows.ort, 'seconds', 2)} s, peak RSS ${range(rows.ort, 'rssMiB', 0)} MiB`);
  const ratios = rows.ours.map((ours, round) => (rows.ort[round].seconds / ours.seconds).toFixed(1));
  console.log(
    `  speed-up per round ${ratios.join(', ')}x (best vs best ${(best(rows.ort, 'seconds') / best(rows.ours, 'seconds')).toFixed(1)}x); memory ${(best(rows.ours, 'rssMiB') / best(rows.ort, 'rssMiB')).toFixed(3)} of ORT's`,
  );
}

async function latency(fp32, int8) {
  console.log('bench/quantize latency in onnxruntime-node (median of 20 runs, sequence 128):');
  for (const batch of [1, 32]) {
    const ids = new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: batch * 128 }, (_, i) => BigInt(1000 + (i % 5000))),
      [batch, 128],
    );
    const mask = new ort.Tensor('int64', new BigInt64Array(batch * 128).fill(1n), [batch, 128]);
    const result = {};
    for (const [name, file] of [
      ['fp32', fp32],
      ['int8', int8],
    ]) {
      const session = await ort.InferenceSession.create(file);
      await session.run({ input_ids: ids, attention_mask: mask });
      const times = [];
      for (let i = 0; i < 20; i += 1) {
        const started = performance.now();
        await session.run({ input_ids: ids, attention_mask: mask });
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      result[name] = times[10];
      await session.release();
    }
    console.log(
      `  batch ${String(batch).padStart(2)}: FP32 ${result.fp32.toFixed(1)} ms, INT8 ${result.int8.toFixed(1)} ms, ${(result.fp32 / result.int8).toFixed(2)}x faster`,
    );
  }
}

try {
  const minilm = await fp32Graph('minilm-3task');
  compare('MiniLM', minilm);
  const int8 = join(work, 'minilm-int8.onnx');
  execFileSync(process.execPath, [cli, 'quantize', minilm, '-o', int8], { stdio: 'ignore' });
  console.log(
    `  size: INT8 ${(statSync(int8).size / 2 ** 20).toFixed(1)} MiB = ${((statSync(int8).size / statSync(minilm).size) * 100).toFixed(1)}% of FP32`,
  );
  await latency(minilm, int8);
  if (large) compare('>2 GB XLM-R-large-sized', await fp32Graph(LARGE_FIXTURE));
} finally {
  rmSync(work, { recursive: true, force: true });
}
