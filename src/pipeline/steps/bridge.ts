import { openBridge } from '../../bridge/session.js';
import { onAbort } from '../../cleanup.js';
import type { Step } from '../context.js';

/** The pinned venv (created on first use) and one bridge process (already starting when its venv was installed), killed on exit, failure and Ctrl-C. */
export const prepareBridge: Step = {
  title: 'Prepare the Python bridge',
  timing: 'bridge',
  async run(c, task) {
    c.bridge =
      (await c.earlyBridge?.session) ??
      (await openBridge({
        ...(c.options.python ? { python: c.options.python } : {}),
        ...(c.options.bridgeTimeoutSeconds !== undefined
          ? { bridgeTimeoutSeconds: c.options.bridgeTimeoutSeconds }
          : {}),
        verbose: c.options.verbose,
        onProgress: (line) => {
          task.output = line;
        },
      }));
    onAbort(() => c.bridge?.client.kill());
    task.output = `bridge ready (pid ${String(c.bridge.client.pid)}, torch ${String(c.bridge.client.versions.torch)})`;
    if (c.bridge.environment.created) {
      task.title = `Prepare the Python bridge (installed in ${c.bridge.environment.installSeconds?.toFixed(0)} s)`;
    }
  },
};
