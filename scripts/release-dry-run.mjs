#!/usr/bin/env node
// The model-release recipe (action.yml + examples/github-actions/model-release.yml) run on this machine,
// step by step, without GitHub: the bridge cache key from the lock, the bridge doctor, the export of the
// previous release (or its bundle, as the downloaded artifact) and of the new model with --junit, then
// `compare`, and the exit codes mapped to the action's ::error:: lines. $GITHUB_STEP_SUMMARY is a file in
// the output directory, so the Markdown the steps append is there too.
//
//   node scripts/release-dry-run.mjs [--previous <model-dir|bundle>] [--model <model-dir>] [--out <dir>]
//       [--samples <file>]... [--export-args "<options>"] [--compare-args "<options>"]
//
// Writes <out>/dry-run.json ({steps: [{name, command, exitCode, seconds, error?}], exitCode}) and exits
// with the first failing step's code (0 when the release would be published).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { exitCodeError } from './ci-exit.mjs';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');

const { values } = parseArgs({
  options: {
    previous: { type: 'string', default: join(ROOT, '.fixtures', 'minilm-3task') },
    model: { type: 'string', default: join(ROOT, '.fixtures', 'minilm-3task-retrained') },
    out: { type: 'string' },
    samples: { type: 'string', multiple: true, default: [] },
    'export-args': { type: 'string', default: '' },
    'compare-args': { type: 'string', default: '' },
  },
});

const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'rfe-release-')));
mkdirSync(out, { recursive: true });
const words = (text) => text.split(/\s+/).filter(Boolean);
const samples = values.samples.flatMap((file) => ['--samples', resolve(file)]);
const env = { GITHUB_STEP_SUMMARY: join(out, 'step-summary.md') };
const steps = [];

/** Runs one step of the recipe like the action does: output streamed, the exit code kept and mapped. */
async function step(name, args) {
  process.stderr.write(`\n== ${name}: rapidfit-export ${args.join(' ')}\n`);
  const started = performance.now();
  const run = await execa('node', [CLI, ...args], { reject: false, env, stdout: 'pipe', stderr: 'inherit' });
  const record = {
    name,
    command: ['rapidfit-export', ...args].join(' '),
    exitCode: run.exitCode ?? 1,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  const error = exitCodeError(name, record.exitCode);
  if (error) {
    record.error = error;
    process.stdout.write(`${error}\n`);
  }
  steps.push(record);
  return { ...record, stdout: String(run.stdout) };
}

function finish(exitCode) {
  writeFileSync(join(out, 'dry-run.json'), `${JSON.stringify({ out, steps, exitCode }, null, 2)}\n`);
  process.stderr.write(`\n== release dry run: exit ${exitCode} (${join(out, 'dry-run.json')})\n`);
  process.exit(exitCode);
}

/** The action's export step: <out>/<name> with the JUnit file in <out>/<name>-reports. */
async function exportBundle(name, modelDir) {
  const bundle = join(out, name);
  mkdirSync(`${bundle}-reports`, { recursive: true });
  const junit = join(`${bundle}-reports`, 'junit.xml');
  const args = [modelDir, '-o', bundle, '--junit', junit, '--no-progress', ...samples, ...words(values['export-args'])];
  const run = await step(`export ${name}`, ['export', ...args]);
  return run.exitCode === 0 ? bundle : finish(run.exitCode);
}

const key = await step('bridge key', ['bridge', 'key', '--json']);
if (key.exitCode !== 0) finish(key.exitCode);
const { key: cacheKey, cacheDir, venvDir } = JSON.parse(key.stdout);
env.RAPIDFIT_EXPORT_CACHE = cacheDir;
process.stderr.write(`cache key ${cacheKey}: ${existsSync(venvDir) ? 'hit' : 'miss'} (path ${cacheDir})\n`);
const doctor = await step('bridge doctor', ['bridge', 'doctor', '--no-progress']);
if (doctor.exitCode !== 0) finish(doctor.exitCode);

// the previous release: a bundle (what the release workflow downloads) is used as it is
const previous = existsSync(join(values.previous, 'manifest.json'))
  ? resolve(values.previous)
  : await exportBundle('previous', resolve(values.previous));
const release = await exportBundle('release', resolve(values.model));
const compare = await step('compare', [
  'compare',
  previous,
  release,
  ...samples,
  '--md',
  join(out, 'compare.md'),
  '--junit',
  join(out, 'compare-junit.xml'),
  '--json',
  ...words(values['compare-args']),
]);
writeFileSync(join(out, 'compare.json'), compare.stdout);
finish(compare.exitCode);
