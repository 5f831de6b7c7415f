// bench/load: N exports back to back in one process through the library API (exportModel), on the
// tiny fixture (FP32 + dynamic INT8, 20 samples). After each run it prints open file descriptors,
// bridge processes still alive (and unreaped), RSS and heap, and at the end the growth from run 1 to
// the last run: none of them should grow with the number of runs.
//   npm run build && node --expose-gc bench/load.mjs [--runs 20] [--model tiny-mean-gelu]
// (--expose-gc: a full collection before each measurement, so RSS and heap show what is retained)
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel } from '../dist/index.js';
import { buildFixtures, fixturePath } from '../fixtures/models.mjs';

function arg(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}
const runs = Number(arg('--runs', 20));
const name = arg('--model', 'tiny-mean-gelu');
await buildFixtures([name]);
const model = fixturePath(name);
const work = mkdtempSync(join(tmpdir(), 'bench-load-'));

function openFds() {
  return readdirSync('/proc/self/fd').length;
}

/** Processes whose parent is this one and whose command line runs the bridge: [alive, zombie]. */
function bridgeChildren() {
  let alive = 0;
  let zombie = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (fields[0] === 'Z') zombie += 1;
      else if (cmdline.includes('rapidfit_bridge')) alive += 1;
    } catch {
      // exited while we looked
    }
  }
  return { alive, zombie };
}

const rows = [];
const started = performance.now();
for (let run = 1; run <= runs; run += 1) {
  const out = join(work, `bundle-${run}`);
  const t0 = performance.now();
  await exportModel(model, { outDir: out, quantize: 'int8', int8: 'dynamic', sampleLimit: 20, latency: false });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(out, { recursive: true, force: true });
  // let execa reap the bridge and ORT release its sessions before measuring
  await new Promise((resolve) => setTimeout(resolve, 200));
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const row = {
    run,
    seconds,
    fds: openFds(),
    ...bridgeChildren(),
    rssMiB: memory.rss / 2 ** 20,
    heapMiB: memory.heapUsed / 2 ** 20,
  };
  rows.push(row);
  console.log(
    `run ${String(run).padStart(2)}: ${seconds.toFixed(1).padStart(5)} s  fds ${row.fds}  bridges alive ${row.alive}, unreaped ${row.zombie}  rss ${row.rssMiB.toFixed(0)} MiB  heap ${row.heapMiB.toFixed(0)} MiB`,
  );
}
rmSync(work, { recursive: true, force: true });
const first = rows[0];
const last = rows.at(-1);
const peakRss = Math.max(...rows.map((r) => r.rssMiB));
console.log(
  `\n${runs} exports in ${((performance.now() - started) / 1000).toFixed(0)} s; run 1 -> run ${runs}: fds ${first.fds} -> ${last.fds}, ` +
    `bridges alive ${first.alive} -> ${last.alive}, rss ${first.rssMiB.toFixed(0)} -> ${last.rssMiB.toFixed(0)} MiB (peak ${peakRss.toFixed(0)}), ` +
    `heap ${first.heapMiB.toFixed(0)} -> ${last.heapMiB.toFixed(0)} MiB`,
);
console.log(
  `rss growth from run 2 to run ${runs}: ${(last.rssMiB - rows[Math.min(1, rows.length - 1)].rssMiB).toFixed(0)} MiB`,
);
