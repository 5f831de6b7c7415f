// bench/export: shared trace + per-task graph derivation (what rapidfit-export does) vs one full
// re-export per task (what RapidFit's export_onnx does), side by side in one run, on the 3-task
// MiniLM fixture. Prints wall times and their ratio.
//   npm run build && node bench/export.mjs [--rounds 2]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBridge } from '../dist/bridge/session.js';
import { deriveTaskGraphs } from '../dist/export/derive.js';
import { buildFixtures, fixturePath } from '../fixtures/models.mjs';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 2;
await buildFixtures(['minilm-3task']);
const model = fixturePath('minilm-3task');
const { client } = await openBridge({});
const tasks = ['sentiment', 'topic', 'spam'];
// warm-up: load the weights once so that neither side pays for it
await client.request('inspect', { model_dir: model });
const work = mkdtempSync(join(tmpdir(), 'bench-export-'));

async function shared(dir) {
  const started = performance.now();
  const exported = await client.request('export', { model_dir: model, tasks, out_dir: dir, mode: 'shared' });
  const outputs = Object.fromEntries(Object.entries(exported.files).map(([task, value]) => [task, value.output]));
  await deriveTaskGraphs(Object.values(exported.files)[0].file, outputs, dir, () => ({}));
  return (performance.now() - started) / 1000;
}

async function perTask(dir) {
  const started = performance.now();
  await client.request('export', { model_dir: model, tasks, out_dir: dir, mode: 'per-task' });
  return (performance.now() - started) / 1000;
}

const results = { shared: [], perTask: [] };
for (let round = 0; round < rounds; round += 1) {
  // alternate the order so that neither side always runs on a warmer machine
  const order = round % 2 === 0 ? ['shared', 'perTask'] : ['perTask', 'shared'];
  for (const name of order) {
    const dir = join(work, `${name}-${round}`);
    results[name].push(name === 'shared' ? await shared(dir) : await perTask(dir));
  }
}
const best = (values) => Math.min(...values);
const size = statSync(join(work, 'shared-0', 'sentiment.onnx')).size;
console.log(
  `bench/export: 3-task MiniLM (${(size / 1e6).toFixed(1)} MB per task graph), ${rounds} rounds, best of each`,
);
console.log(
  `  shared trace + derive : ${best(results.shared).toFixed(2)} s   (all: ${results.shared.map((v) => v.toFixed(2)).join(', ')})`,
);
console.log(
  `  per-task re-export    : ${best(results.perTask).toFixed(2)} s   (all: ${results.perTask.map((v) => v.toFixed(2)).join(', ')})`,
);
console.log(`  ratio per-task / shared: ${(best(results.perTask) / best(results.shared)).toFixed(2)}x`);
await client.close();
rmSync(work, { recursive: true, force: true });
