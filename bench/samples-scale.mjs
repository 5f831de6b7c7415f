// `--samples` at scale (issue 21): the demo model exported with 1k, 5k and 20k of its own kind of texts,
// one run each, side by side. Prints per step the time and Node's peak RSS at the step's end (the
// report's timings and stepPeakRssMiB), and each process's peak RSS (Node and the Python bridge, VmHWM
// polled from /proc), so memory growth with the text count shows as a ratio.
//   node bench/samples-scale.mjs [--sizes 1000,5000,20000]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures, fixturePath, validationPath } from '../fixtures/models.mjs';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const argSizes = process.argv.indexOf('--sizes');
const SIZES = (argSizes > 0 ? process.argv[argSizes + 1] : '1000,5000,20000').split(',').map(Number);

/**
 * `count` distinct in-domain texts with gold labels: the demo's validation texts, each repeated with a
 * numbered variation (a trailing clause that does not change its label), as JSON lines.
 */
function writeTexts(file, count) {
  const seed = JSON.parse(readFileSync(validationPath('minilm-3task'), 'utf8'));
  const byText = new Map();
  for (const [task, rows] of Object.entries(seed))
    for (const { text, label } of rows) byText.set(text, { ...byText.get(text), [task]: label });
  const base = [...byText.entries()];
  const endings = ['', ' today', ' again', ' this week', ' as usual', ' for now', ' once more', ' lately'];
  const lines = [];
  for (let index = 0; lines.length < count; index += 1) {
    const [text, labels] = base[index % base.length];
    const round = Math.floor(index / base.length);
    const ending = endings[round % endings.length] + (round >= endings.length ? ` (${round})` : '');
    lines.push(JSON.stringify({ text: `${text}${ending}`, labels }));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Peak RSS (VmHWM, MiB) of a process and of its descendants, polled until it exits. */
function peakRss(pid, peaks) {
  const read = (id) => {
    try {
      const status = readFileSync(`/proc/${id}/status`, 'utf8');
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?';
      const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
      const key = name.startsWith('python') ? 'python' : name;
      peaks[key] = Math.max(peaks[key] ?? 0, hwm);
      const children = readFileSync(`/proc/${id}/task/${id}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const child of children) read(child);
    } catch {
      // the process ended between two reads
    }
  };
  read(pid);
}

async function run(samples, out) {
  const started = performance.now();
  const child = spawn('node', [CLI, fixturePath('minilm-3task'), '-o', out, '--samples', samples, '--no-progress'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const peaks = {};
  const timer = setInterval(() => peakRss(child.pid, peaks), 200);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const dir = code === 0 ? out : `${out}.unverified`;
  const report = JSON.parse(readFileSync(join(dir, 'parity-report.json'), 'utf8'));
  return { code, seconds, peaks, report, stderr };
}

await buildFixtures(['minilm-3task']);
const work = mkdtempSync(join(tmpdir(), 'rfe-bench-scale-'));
const results = [];
try {
  for (const size of SIZES) {
    const samples = join(work, `texts-${size}.jsonl`);
    writeTexts(samples, size);
    const result = await run(samples, join(work, `bundle-${size}`));
    if (result.code !== 0 && result.code !== 3) throw new Error(`exit ${result.code}: ${result.stderr.slice(-2000)}`);
    results.push({ size, ...result });
    const splits = result.report.samples.splits;
    console.log(
      `${size} texts: exit ${result.code}, ${result.seconds.toFixed(1)} s, peak RSS node ${result.peaks.node?.toFixed(0)} MiB, ` +
        `python ${result.peaks.python?.toFixed(0)} MiB; splits ${JSON.stringify(splits)}`,
    );
    for (const name of readdirSync(work))
      if (name.startsWith(`bundle-${size}`)) rmSync(join(work, name), { recursive: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const steps = Object.keys(results[0].report.timings);
console.log(`\nper step: seconds / Node's peak RSS (MiB) at its end`);
console.log(`| step | ${results.map((r) => `${r.size} texts`).join(' | ')} |`);
console.log(`|---|${results.map(() => '---:').join('|')}|`);
for (const step of steps) {
  const cells = results.map((r) => `${r.report.timings[step] ?? '-'} s / ${r.report.stepPeakRssMiB?.[step] ?? '-'}`);
  console.log(`| ${step} | ${cells.join(' | ')} |`);
}
const first = results[0];
for (const r of results.slice(1)) {
  console.log(
    `${r.size} vs ${first.size} texts (${(r.size / first.size).toFixed(0)}x the texts): time ${(r.seconds / first.seconds).toFixed(2)}x, ` +
      `Node peak RSS ${(r.peaks.node / first.peaks.node).toFixed(2)}x, bridge peak RSS ${(r.peaks.python / first.peaks.python).toFixed(2)}x`,
  );
}
