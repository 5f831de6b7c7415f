#!/usr/bin/env node
// The exit codes of rapidfit-export (src/errors.ts, the README's table) as one GitHub Actions `::error::`
// line, for the action (action.yml) and the release dry run (scripts/release-dry-run.mjs), so both say
// the same thing. Usage: node scripts/ci-exit.mjs <step> <exit-code>  (prints nothing for 0).

/** What each exit code means in a pipeline, and what to do about it. */
export const EXIT_MEANINGS = {
  1: 'internal error in rapidfit-export (a bug): report it with the log above',
  2: 'bad input: the model directory, a --samples file, an option or a bundle is wrong (see the error line above)',
  3: 'a parity gate failed: the bundle does not predict what the model (or the previous release) does; nothing was published',
  4: 'Python bridge or environment failure: no Python, the venv install failed, or the bridge crashed or timed out',
  130: 'interrupted (SIGINT)',
  143: 'terminated (SIGTERM), e.g. the job was cancelled or timed out',
};

/** The `::error::` line of a step that ended with `code`; undefined for 0. */
export function exitCodeError(step, code) {
  const value = Number(code);
  if (value === 0) return undefined;
  const meaning = EXIT_MEANINGS[value] ?? 'unexpected exit code';
  return `::error title=rapidfit-export ${step} failed (exit ${value})::${meaning}`;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [step = 'step', code = '1'] = process.argv.slice(2);
  const line = exitCodeError(step, code);
  if (line) process.stdout.write(`${line}\n`);
}
