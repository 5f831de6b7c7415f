import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/bridge/client.js';
import { callBridge } from '../../src/bridge/methods.js';
import { ToolError } from '../../src/errors.js';
import { BRIDGE_SOURCE } from '../../src/paths.js';
import { fixturePath } from '../../fixtures/models.mjs';
import { bridgePython, isRunning, scratchDir } from '../helpers/cli.js';

/** Runs "diagnose" on a bridge spawned by hand, reading its raw stdout (the client drops non-JSON lines). */
async function rawDiagnose(python: string, mergeStderr: boolean) {
  const requests = '{"id":1,"method":"diagnose"}\n{"id":2,"method":"shutdown"}\n';
  const command = mergeStderr
    ? ['sh', ['-c', 'exec "$0" -m rapidfit_bridge 2>&1', python]]
    : [python, ['-m', 'rapidfit_bridge']];
  const run = await execa(command[0] as string, command[1] as string[], {
    env: { PYTHONPATH: BRIDGE_SOURCE, PYTHONUNBUFFERED: '1', PYTHONWARNINGS: 'ignore' },
    input: requests,
    reject: false,
  });
  const stdout = run.stdout.split('\n').filter((line) => line.trim() !== '');
  const answer = stdout
    .filter(isJsonLine)
    .map((line) => JSON.parse(line) as { id?: number })
    .find((m) => m.id === 1);
  return { stdout, stderr: run.stderr, answer };
}

function isJsonLine(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

/** stdout_isolated on a non-isolated process, then isolated, then with each half of the isolation undone. */
const ISOLATION_CASES = `
import json, os, sys
from rapidfit_bridge import stdio
cases = {"never_opened": stdio.stdout_isolated()}
cases["protocol_is_sys_stdout"] = stdio.stdout_isolated(sys.stdout)
cases["protocol_shares_fd1"] = stdio.stdout_isolated(os.fdopen(os.dup(1), "w"))
protocol = stdio.open_protocol_stream()
cases["isolated"] = stdio.stdout_isolated()
sys.stdout = protocol
cases["sys_stdout_replaced_by_protocol"] = stdio.stdout_isolated()
sys.stdout = sys.stderr
os.dup2(protocol.fileno(), 1)
cases["fd1_pointed_at_protocol"] = stdio.stdout_isolated()
protocol.write(json.dumps(cases) + "\\n")
`;

async function waitFor(condition: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('the Python bridge protocol', () => {
  let python: string;
  let client: BridgeClient;

  beforeAll(async () => {
    python = await bridgePython();
    client = await BridgeClient.start({ python });
  }, 120_000);
  afterAll(async () => client?.close());

  it('sends READY with the pinned library versions', () => {
    expect(client.versions).toMatchObject({
      torch: '2.15.0',
      transformers: '5.24.0',
      onnx: '1.23.2',
      rapidfit: '0.1.8',
    });
  });

  it('keeps stdout clean when Python code, libraries and C code print', async () => {
    const result = await client.request<{ stdout_isolated: boolean }>('diagnose');
    expect(result.stdout_isolated).toBe(true);
    // the prints went to stderr, not into the protocol
    const printed = () =>
      /diagnose: print\(\) to stdout[\s\S]*diagnose: os\.write\(1\)/.test(client.stderr().join('\n'));
    expect(await waitFor(printed)).toBe(true);
    expect(await client.request('ping')).toEqual({ pong: true });
  });

  it("checks stdout isolation for real: true on the bridge's own stdout, false when stderr is the protocol pipe", async () => {
    // "2>&1" makes stderr the protocol pipe, so the bridge's redirect of fd 1 cannot isolate anything
    const [own, merged] = await Promise.all([rawDiagnose(python, false), rawDiagnose(python, true)]);
    expect(own.answer).toMatchObject({ id: 1, ok: true, result: { stdout_isolated: true } });
    // every line on the real stdout is protocol; the probes went to stderr
    expect(own.stdout.filter((line) => !isJsonLine(line))).toEqual([]);
    expect(own.stderr).toMatch(/diagnose: print\(\) to stdout[\s\S]*diagnose: os\.write\(1\)/);
    expect(merged.answer).toMatchObject({ id: 1, ok: true, result: { stdout_isolated: false } });
  }, 120_000);

  it('finds each way the protocol stream can leak into stdout', async () => {
    const run = await execa(python, ['-c', ISOLATION_CASES], { env: { PYTHONPATH: BRIDGE_SOURCE }, reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      never_opened: false,
      protocol_is_sys_stdout: false,
      protocol_shares_fd1: false,
      isolated: true,
      sys_stdout_replaced_by_protocol: false,
      fd1_pointed_at_protocol: false,
    });
  });

  it('matches concurrent answers to their request ids', async () => {
    const [a, b, c] = await Promise.all([
      client.request<{ format: string; tasks: Array<{ name: string }> }>('inspect', {
        model_dir: fixturePath('tiny-cls-relu'),
      }),
      client.request('ping'),
      client.request<{ format: string; tasks: Array<{ name: string }> }>('inspect', {
        model_dir: fixturePath('tiny-hf-seqcls'),
        task_name: 'x',
      }),
    ]);
    expect(a.tasks.map((task) => task.name)).toEqual(['intent', 'urgent']);
    expect(b).toEqual({ pong: true });
    expect(c.format).toBe('hf-sequence-classification');
  });

  it('returns Python errors as typed errors with a code, a file and an exit code, not a traceback', async () => {
    const error = await client.request('inspect', { model_dir: '/no/such/model' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).details).toMatchObject({ code: 'INPUT_MISSING', file: '/no/such/model' });
    expect((error as ToolError).exitCode).toBe(2);
    const unknown = await client.request('no_such_method').catch((e: unknown) => e);
    expect((unknown as ToolError).details.code).toBe('BAD_REQUEST');
    expect((unknown as ToolError).message).not.toMatch(/Traceback/);
  });

  it('kills the bridge when a request times out', async () => {
    const own = await BridgeClient.start({ python });
    const error = await own
      .request('inspect', { model_dir: fixturePath('minilm-3task') }, { timeoutMs: 1 })
      .catch((e: unknown) => e);
    expect((error as ToolError).exitCode).toBe(4);
    expect((error as ToolError).message).toMatch(/did not answer "inspect" within 0\.001 s/);
    expect(await waitFor(() => !isRunning(own.pid))).toBe(true);
    await expect(own.request('ping')).rejects.toThrow(/not running/);
  }, 120_000);

  it('declares a stopped bridge hung after its inactivity timeout, and kills it', async () => {
    const own = await BridgeClient.start({ python, inactivityTimeoutMs: 3000 });
    process.kill(own.pid!, 'SIGSTOP');
    const started = Date.now();
    const error = (await own.request('ping').catch((e: unknown) => e)) as ToolError;
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(error.exitCode).toBe(4);
    expect(error.details.code).toBe('BRIDGE_TIMEOUT');
    expect(error.message).toMatch(
      /^the Python bridge sent nothing for 3 s while running "ping" \(request \d+, [\d.]+ s in\): it is hung or stopped, and was killed/,
    );
    expect(await waitFor(() => !isRunning(own.pid))).toBe(true);
  }, 120_000);

  it('keeps the cyclic GC off while it starts up, and on with the start-up heap frozen once a model is loaded', async () => {
    const own = await BridgeClient.start({ python });
    try {
      const gc = async () => (await callBridge(own, 'diagnose', {})).gc;
      expect(await gc()).toEqual({ enabled: false, frozen: 0 });
      await callBridge(own, 'inspect', { model_dir: fixturePath('tiny-cls-relu') });
      expect((await gc()).enabled).toBe(false);
      await callBridge(own, 'export', {
        model_dir: fixturePath('tiny-cls-relu'),
        out_dir: join(scratchDir(), 'gc-export'),
      });
      const after = await gc();
      expect(after.enabled).toBe(true);
      // torch, transformers and the model: hundreds of thousands of objects never scanned again
      expect(after.frozen).toBeGreaterThan(100_000);
    } finally {
      await own.close();
    }
  }, 180_000);

  it('keeps a request alive with heartbeats while it runs longer than the inactivity timeout', async () => {
    // 1.2 s timeout: the bridge beats every 0.3 s; loading and tracing the model is silent for longer
    const own = await BridgeClient.start({ python, inactivityTimeoutMs: 1200 });
    try {
      const seen = [Date.now()];
      await own.request(
        'export',
        {
          model_dir: fixturePath('tiny-cls-relu'),
          opset: 17,
          max_length: 128,
          exporter: 'torchscript',
          out_dir: join(scratchDir(), 'export'),
          mode: 'shared',
        },
        { onProgress: () => seen.push(Date.now()) },
      );
      seen.push(Date.now());
      const longestSilence = Math.max(...seen.slice(1).map((t, i) => t - seen[i]!));
      expect(longestSilence).toBeGreaterThan(1200);
    } finally {
      await own.close();
    }
  }, 180_000);

  it('rejects pending requests with exit 4 when the process dies, and close() stops it', async () => {
    const own = await BridgeClient.start({ python });
    const pending = own
      .request('export', { model_dir: fixturePath('minilm-3task'), out_dir: '/tmp/never' })
      .catch((e: unknown) => e);
    process.kill(own.pid!, 'SIGKILL');
    const error = (await pending) as ToolError;
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(
      /^the Python bridge was killed by SIGKILL while running "export" \(request \d+, [\d.]+ s in/,
    );
    expect(error.details).toMatchObject({
      code: 'BRIDGE_EXITED',
      hint: expect.stringMatching(/out of memory|memory runs out/),
    });
    await expect(own.request('ping')).rejects.toThrow(
      /cannot run "ping": the Python bridge is not running: the Python bridge was killed by SIGKILL/,
    );
    const other = await BridgeClient.start({ python });
    const pid = other.pid;
    await other.close();
    expect(isRunning(pid)).toBe(false);
  }, 120_000);
});
