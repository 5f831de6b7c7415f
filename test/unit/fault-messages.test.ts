import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { heartbeatSeconds } from '../../src/bridge/client.js';
import { bridgeExitedError, bridgeGoneError, bridgeTimeoutError } from '../../src/bridge/failure.js';
import { acquireOutputLock, outputLockPath } from '../../src/bundle/output-lock.js';
import { EnvironmentError, ToolError } from '../../src/errors.js';
import { asEnvironmentError } from '../../src/fs-errors.js';
import { stepError } from '../../src/pipeline/step-error.js';

const activity = { method: 'export', id: 3, startedAt: 1_000, lastProgress: 'tracing the shared encoder' };

describe('bridge failure messages', () => {
  it('a killed bridge: the request, how long it ran, its last progress, then its last stderr lines', () => {
    const error = bridgeExitedError(
      { code: undefined, signal: 'SIGKILL' },
      activity,
      ['', 'RuntimeError: out of memory', 'Killed'],
      3_500,
    );
    expect(error.exitCode).toBe(4);
    expect(error.message).toBe(
      'the Python bridge was killed by SIGKILL while running "export" (request 3, 2.5 s in; last progress: "tracing the shared encoder"); its last stderr lines:\n    RuntimeError: out of memory\n    Killed',
    );
    expect(error.details.hint).toMatch(/memory runs out/);
    // no stderr: one line, no dangling colon
    expect(bridgeExitedError({ code: 1, signal: undefined }, undefined, [], 0).message).toBe(
      'the Python bridge exited with code 1 between requests',
    );
  });

  it('a hung bridge and a request after the bridge is gone', () => {
    expect(bridgeTimeoutError(4, activity, [], 9_000).message).toBe(
      'the Python bridge sent nothing for 4 s while running "export" (request 3, 8.0 s in; last progress: "tracing the shared encoder"): it is hung or stopped, and was killed',
    );
    const gone = bridgeGoneError('predict', bridgeExitedError({ code: undefined, signal: 'SIGTERM' }, undefined, []));
    expect(gone.message).toBe(
      'cannot run "predict": the Python bridge is not running: the Python bridge was killed by SIGTERM between requests',
    );
  });

  it('heartbeats: every 2 s, or a quarter of a shorter timeout', () => {
    expect(heartbeatSeconds(600_000)).toBe(2);
    expect(heartbeatSeconds(4_000)).toBe(1);
    expect(heartbeatSeconds(0)).toBe(2);
  });

  it('step errors name the step for bridge failures and turn disk errnos into exit 4 with a path', () => {
    const killed = stepError(
      bridgeExitedError({ code: undefined, signal: 'SIGKILL' }, activity, []),
      'export',
      '/out',
    ) as ToolError;
    expect(killed.message).toMatch(/^step "export": the Python bridge was killed/);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const mapped = stepError(full, 'verify', '/data/out') as EnvironmentError;
    expect(mapped).toBeInstanceOf(EnvironmentError);
    expect(mapped.details.file).toBe('/data/out');
    expect(mapped.message).toBe('no space left on the device (ENOSPC) in step "verify"');
    expect(mapped.details.hint).toMatch(/\/data\/out was left as it was/);
    const withPath = asEnvironmentError(
      Object.assign(new Error('x'), { code: 'EROFS', path: '/ro/file' }),
      '/fallback',
      'in step "export"',
    ) as EnvironmentError;
    expect(withPath.details.file).toBe('/ro/file');
    const bug = new TypeError('undefined is not a function');
    expect(stepError(bug, 'export', '/out')).toBe(bug);
  });
});

describe('the output lock', () => {
  it('refuses a second claim while held (also in the same process), takes over a stale one, and releases', async () => {
    const dir = await mkdtemp(join(process.env.RFE_TEST_TMP ?? tmpdir(), 'rfe-lock-'));
    const out = join(dir, 'bundle');
    const release = await acquireOutputLock(out);
    expect(readFileSync(outputLockPath(out), 'utf8')).toBe(String(process.pid));
    const second = await acquireOutputLock(out).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(EnvironmentError);
    expect((second as EnvironmentError).message).toBe(
      `another rapidfit-export run (pid ${process.pid}) is writing this output directory`,
    );
    await release();
    expect(existsSync(outputLockPath(out))).toBe(false);
    // a lock left by a dead process (pid 2^22 + 1 is above Linux's pid_max default) is taken over
    writeFileSync(outputLockPath(out), String(4_194_305));
    const again = await acquireOutputLock(out);
    expect(readFileSync(outputLockPath(out), 'utf8')).toBe(String(process.pid));
    await again();
  });
});
