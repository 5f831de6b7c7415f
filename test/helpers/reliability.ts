import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { FUZZ_PROPERTIES, RELIABILITY_CASES, type FuzzProperty, type ReliabilityCase } from './reliability-cases.js';

function reliabilityCase(id: string): ReliabilityCase {
  const found = RELIABILITY_CASES.find((c) => c.id === id);
  if (!found) throw new Error(`no reliability case "${id}" in test/helpers/reliability-cases.ts`);
  return found;
}

/** A case's message as a regex over one whole line: `<...>` matches any text, the rest literally. */
export function messagePattern(message: string): RegExp {
  const parts = message.split(/<[^<>]*>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*?')}$`);
}

/** Asserts a run's exit code, that one stderr line is the case's message, and no stack trace. */
export function expectCase(id: string, run: { exitCode: number | undefined; stderr: string }): ReliabilityCase {
  const c = reliabilityCase(id);
  expect(run.exitCode, run.stderr).toBe(c.exitCode);
  const pattern = messagePattern(c.message);
  const lines = run.stderr.split('\n').map((line) => line.trimEnd());
  expect(
    lines.some((line) => pattern.test(line)),
    `no stderr line matches ${pattern}:\n${run.stderr}`,
  ).toBe(true);
  expect(run.stderr).not.toMatch(/Traceback|^\s+at .+:\d+:\d+\)?$|internal error/m);
  return c;
}

/** sha256 of every file below `dir`, by relative path: a bundle's exact content. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

/** A bundle whose every file matches its manifest (no mixed bundle), and whose manifest says verified. */
export function expectCompleteBundle(dir: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    verified: boolean;
    files: Array<{ path: string; sha256: string; bytes?: number; size?: number }>;
  };
  expect(manifest.verified).toBe(true);
  const digest = treeDigest(dir);
  const listed = Object.fromEntries(manifest.files.map((file) => [file.path, file.sha256]));
  expect({ ...digest, 'manifest.json': undefined }).toEqual({ ...listed, 'manifest.json': undefined });
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const LEFT: Record<ReliabilityCase['left'], string> = {
  nothing: 'nothing (no `-o`, no staging dir, no lock)',
  'previous bundle': 'the previous bundle at `-o`, byte for byte; nothing beside it',
  'complete bundle': 'one complete, verified bundle at `-o`; nothing beside it',
  'previous bundle and candidate':
    'the previous bundle at `-o`, byte for byte; the failed candidate in `<out>.unverified/` (`"verified": false`)',
};

/** docs/reliability.md, rendered from the case list. */
export function renderReliabilityDoc(
  cases: ReliabilityCase[] = RELIABILITY_CASES,
  fuzz: FuzzProperty[] = FUZZ_PROPERTIES,
): string {
  const fuzzRows = fuzz.map(
    (p) => `| ${cell(p.input)} | ${cell(p.property)} | ${p.cases} | ${cell(p.found)} | \`test/${p.test}\` |`,
  );
  const rows = cases.map(
    (c) =>
      `| ${cell(c.fault)} | ${cell(c.injected)} | ${c.exitCode} | \`${cell(c.message)}\` | ${LEFT[c.left]} | \`test/${c.test}\` |`,
  );
  return `# Reliability: every bad input and fault tried

Generated from \`test/helpers/reliability-cases.ts\`; do not edit by hand. Each row is asserted by the
test file it names (exit code, the whole stderr line, no stack trace, what is left on disk), and
\`test/unit/reliability-doc.test.ts\` fails when this file differs from the list. To regenerate after
changing the list: \`RFE_WRITE_RELIABILITY=1 npx vitest run --config vitest.unit.config.ts test/unit/reliability-doc.test.ts\`.

Exit codes: 0 ok, 2 bad input (the user's files or options), 3 parity gate failed, 4 environment
(Python, the bridge process, disk, signals from outside, a concurrent run), 1 only for bugs. 130 and
143 are Ctrl-C (SIGINT) and SIGTERM (128 + signal number), after the same clean-up: the bridge is
killed, staging and temporary directories are removed, the output lock is released. In messages,
\`<...>\` stands for paths, sizes, pids and other run-specific text.

| bad input or fault | how the test produces it | exit | message (a whole line: errors on stderr, progress on stdout) | left on disk | test |
|---|---|---:|---|---|---|
${rows.join('\n')}

## Fuzzing

Property tests (fast-check) in \`test/fuzz/\`, seeded (\`FUZZ_SEED\`, default 20261125; \`FUZZ_RUNS=k\`
multiplies the case counts), part of \`npm test\`. The property of every row also holds: never exit 1,
never a stack trace, nothing half-written; a refusal is a user error (exit 2) naming the file.

| input | property | cases | bugs it found (fixed: before -> after) | test |
|---|---|---:|---|---|
${fuzzRows.join('\n')}

## Bridge timeout

A bridge request that hears nothing from the bridge (no answer, no progress, no heartbeat) for the
bridge timeout is declared hung: the bridge is killed (SIGKILL) and the run ends with exit 4. While
it works, the bridge sends a heartbeat every 2 s (a quarter of the timeout when that is shorter) from a
thread of its own, so a long export does not trip it; only a stopped process (SIGSTOP, a frozen
container) or one starved of CPU for minutes does.
Default 600 s (torch's C++ export passes can hold Python's GIL, and so delay heartbeats, for a long
time on very large models); \`--bridge-timeout <seconds>\` (library: \`bridgeTimeoutSeconds\`) changes
it, 0 turns it off.

## What is not covered

- A bridge stuck inside Python while its heartbeat thread still runs (a deadlock in a handler) is
  not detected by the timeout; Ctrl-C or SIGTERM ends the run cleanly.
- SIGKILL of the tool itself cannot be handled: the staging directory \`.<out>.staging-*\` and the
  lock \`.<out>.lock\` stay beside \`-o\` until removed by hand (the bundle at \`-o\` is intact); the
  next run takes the lock over, since its pid is gone. The bridge exits when its stdin closes, after
  the request it is running.
- Concurrent runs to the same \`-o\`: the lock is taken after the input and output checks and held
  until the run ends; the second run fails at once rather than waiting. A stale lock is taken over
  by whichever run sees it first.
- The disk-full test needs a tmpfs in a private mount namespace (\`unshare -m\`, root or
  CAP_SYS_ADMIN); it is skipped where that is not allowed.
`;
}
