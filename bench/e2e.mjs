// bench/e2e: rapidfit-export vs RapidFit's own export_onnx(quantize=True) on the 3-task MiniLM model, in
// one run: wall time and peak RSS (largest process: GNU time's %M), output sizes, and INT8 top-1
// agreement with PyTorch of both on the 213 embedded samples.
//   npm run build && node bench/e2e.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBridge } from '../dist/bridge/session.js';
import { buildFixtures, fixturePath } from '../fixtures/models.mjs';
import { compareWithPytorch } from '../dist/verify/parity.js';
import { embeddedSamples } from '../dist/verify/samples.js';
import { SAMPLE_SEED } from '../dist/pipeline.js';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
await buildFixtures(['minilm-3task']);
const model = fixturePath('minilm-3task');
const { python, client } = await (async () => {
  const session = await openBridge({});
  return { python: session.environment.python, client: session.client };
})();

function timed(command, args) {
  const timeFile = join(work, 'time.txt');
  execFileSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %M', command, ...args], { stdio: 'ignore' });
  const [seconds, kib] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { seconds, rssMiB: kib / 1024 };
}
const size = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);

try {
  const ours = join(work, 'ours');
  const theirs = join(work, 'rapidfit');
  const a = timed(process.execPath, [join(root, 'dist', 'cli.js'), model, '-o', ours, '--per-channel', '--int8-top1', '0', '--no-progress']);
  const b = timed(python, [join(root, 'fixtures', 'rapidfit_export.py'), model, theirs]);
  const tasks = ['sentiment', 'topic', 'spam'];
  const graphs = Object.fromEntries(tasks.map((t) => [t, { ours: join(ours, `${t}_int8.onnx`), rapidfit: join(theirs, `${t}_int8.onnx`) }]));
  const { metrics } = await compareWithPytorch({
    bridge: client, modelDir: model, tasks, graphs, samples: embeddedSamples(SAMPLE_SEED), maxLength: 128, workDir: join(work, 'parity'),
  });
  console.log('bench/e2e: 3-task MiniLM, one run each');
  console.log(`  rapidfit-export (export + INT8 + FP32/INT8 verification + bundle): ${a.seconds.toFixed(1)} s, peak RSS ${a.rssMiB.toFixed(0)} MiB, output ${(size(ours) / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  RapidFit export_onnx(quantize=True) (export + INT8, no checks):    ${b.seconds.toFixed(1)} s, peak RSS ${b.rssMiB.toFixed(0)} MiB, output ${(size(theirs) / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  time ratio RapidFit / rapidfit-export: ${(b.seconds / a.seconds).toFixed(2)}x`);
  for (const task of tasks) {
    console.log(`  ${task}: INT8 top-1 agreement with PyTorch: rapidfit-export ${(metrics[task].ours.top1Agreement * 100).toFixed(1)}%, RapidFit ${(metrics[task].rapidfit.top1Agreement * 100).toFixed(1)}%`);
  }
} finally {
  await client.close();
  rmSync(work, { recursive: true, force: true });
}
