import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startInstalledBridge } from '../../src/bridge/session.js';
import { cacheRoot } from '../../src/bridge/venv.js';
import { bridgePython, isRunning, scratchDir } from '../helpers/cli.js';

/** Bridge processes this test process started (its children running rapidfit_bridge). */
function ownBridges(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes('rapidfit_bridge'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('the bridge started before the pipeline loads', () => {
  const cache = process.env.RAPIDFIT_EXPORT_CACHE;
  afterEach(() => {
    if (cache === undefined) delete process.env.RAPIDFIT_EXPORT_CACHE;
    else process.env.RAPIDFIT_EXPORT_CACHE = cache;
  });

  it("starts the installed venv's bridge, ready for the export step to take over", async () => {
    await bridgePython(); // the venv is installed
    const early = startInstalledBridge({});
    await early.spawned;
    const session = await early.session;
    try {
      expect(session).toBeDefined();
      expect(session!.environment).toMatchObject({ created: false });
      expect(session!.environment.venvDir.startsWith(cacheRoot())).toBe(true);
      expect(session!.client.versions).toMatchObject({ torch: '2.15.0' });
      expect(ownBridges()).toEqual([session!.client.pid]);
      expect(await session!.client.request('ping')).toEqual({ pong: true });
    } finally {
      await session?.client.close();
    }
  }, 180_000);

  it('is killed when no step takes it, also in the middle of its start-up', async () => {
    await bridgePython();
    const early = startInstalledBridge({});
    await early.spawned;
    const [pid] = ownBridges();
    expect(isRunning(pid)).toBe(true);
    // torch is still importing: cancel kills it there, and the session is undefined rather than a bridge
    await early.cancel();
    expect(await early.session).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isRunning(pid)).toBe(false);
    expect(ownBridges()).toEqual([]);
  }, 180_000);

  it('starts nothing when the venv is not installed (the bridge step installs it, with progress)', async () => {
    process.env.RAPIDFIT_EXPORT_CACHE = scratchDir('rfe-empty-cache-');
    const early = startInstalledBridge({});
    await early.spawned;
    expect(await early.session).toBeUndefined();
    expect(ownBridges()).toEqual([]);
  }, 60_000);
});
