// bench/e2e: rapidfit-export with default options (export, INT8 auto, FP32 and INT8 verification,
// bundle) vs RapidFit's own export_onnx(quantize=True) (export and ORT quantize_dynamic, no checks), on
// the 2-task MiniLM model (minilm-fortunes) and the 3-task demo (minilm-3task). Each round runs both
// one after the other (the order alternates between rounds), into empty output directories; the
// figures are the per-round ratios, then our per-step times and both tools' INT8 top-1 agreement with
// PyTorch on the 213 embedded texts.
//   npm run build && node bench/e2e.mjs [--rounds 3] [--fixtures minilm-fortunes,minilm-3task]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBridge } from '../dist/bridge/session.js';
import { buildFixtures, fixturePath } from '../fixtures/models.mjs';
import { runReference } from '../dist/pipeline/reference-run.js';
import { compareWithReference } from '../dist/verify/parity.js';
import { embeddedSamples } from '../dist/verify/samples.js';
import { SAMPLE_SEED } from '../dist/pipeline.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    fixtures: { type: 'string', default: 'minilm-fortunes,minilm-3task' },
  },
});
const rounds = Number(values.rounds);
const fixtures = values.fixtures.split(',');
const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
await buildFixtures(fixtures);
const session = await openBridge({});
const python = session.environment.python;

/** Wall time, peak RSS (largest process, GNU time's %M) and exit code of one command. */
function timed(command, args) {
  const timeFile = join(work, 'time.txt');
  const child = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %M', command, ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 2 ** 20,
  });
  const [seconds, kib] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { seconds, rssMiB: kib / 1024, stdout: child.stdout.toString(), exitCode: child.status };
}
const size = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
const ours = (model, out) => timed(process.execPath, [join(root, 'dist', 'cli.js'), model, '-o', out, '--json']);
const theirs = (model, out) => timed(python, [join(root, 'fixtures', 'rapidfit_export.py'), model, out]);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

try {
  for (const fixture of fixtures) {
    const model = fixturePath(fixture);
    const ratios = [];
    let last;
    console.log(`bench/e2e: ${fixture}, ${rounds} rounds, default options`);
    for (let round = 0; round < rounds; round += 1) {
      const outOurs = join(work, `${fixture}-ours-${round}`);
      const outTheirs = join(work, `${fixture}-rapidfit-${round}`);
      let a;
      let b;
      if (round % 2 === 0) {
        a = ours(model, outOurs);
        b = theirs(model, outTheirs);
      } else {
        b = theirs(model, outTheirs);
        a = ours(model, outOurs);
      }
      if (b.exitCode !== 0) throw new Error(`${fixture}: RapidFit's export failed (exit ${b.exitCode})`);
      // exit 3: every step ran and a gate failed (the candidate is kept in <out>.unverified): timed all the same, and said
      if (a.exitCode !== 0 && a.exitCode !== 3)
        throw new Error(`${fixture}: rapidfit-export failed (exit ${a.exitCode})`);
      const bundle = a.exitCode === 0 ? outOurs : `${outOurs}.unverified`;
      ratios.push(b.seconds / a.seconds);
      console.log(
        `  round ${round + 1}: rapidfit-export ${a.seconds.toFixed(1)} s (exit ${a.exitCode}${a.exitCode === 3 ? ', a parity gate failed' : ', verified'}, peak RSS ${a.rssMiB.toFixed(0)} MiB), RapidFit ${b.seconds.toFixed(1)} s (peak RSS ${b.rssMiB.toFixed(0)} MiB): ${(b.seconds / a.seconds).toFixed(2)}x`,
      );
      if (last) {
        rmSync(last.bundle, { recursive: true, force: true });
        rmSync(last.outTheirs, { recursive: true, force: true });
      }
      const report = JSON.parse(readFileSync(join(bundle, 'parity-report.json'), 'utf8'));
      last = { bundle, outTheirs, report };
    }
    console.log(
      `  time ratio RapidFit / rapidfit-export per round: ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')} (median ${median(ratios).toFixed(2)}x)`,
    );
    console.log(
      `  rapidfit-export steps (last round, s; the report's timings): ${Object.entries(last.report.timings)
        .map(([step, s]) => `${step} ${s}`)
        .join(', ')}`,
    );
    console.log(
      `  output: rapidfit-export ${(size(last.bundle) / 2 ** 20).toFixed(0)} MiB (bundle), RapidFit ${(size(last.outTheirs) / 2 ** 20).toFixed(0)} MiB`,
    );
    const tasks = last.report.tasks.map((t) => t.task);
    const batches = await runReference({
      bridge: session.client,
      modelDir: model,
      tasks,
      samples: embeddedSamples(SAMPLE_SEED),
      calibrationCount: 0,
      maxLength: 128,
      workDir: join(work, `${fixture}-reference`),
    });
    const graphs = Object.fromEntries(
      tasks.map((t) => [
        t,
        { ours: join(last.bundle, `${t}_int8.onnx`), rapidfit: join(last.outTheirs, `${t}_int8.onnx`) },
      ]),
    );
    const metrics = await compareWithReference(batches, graphs);
    for (const task of tasks) {
      console.log(
        `  ${task}: INT8 top-1 agreement with PyTorch (213 texts): rapidfit-export ${(metrics[task].ours.top1Agreement * 100).toFixed(1)}%, RapidFit ${(metrics[task].rapidfit.top1Agreement * 100).toFixed(1)}%`,
      );
    }
  }
} finally {
  await session.client.close();
  rmSync(work, { recursive: true, force: true });
}
