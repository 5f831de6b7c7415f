import { rmSync } from 'node:fs';
import { removeStagingDirsSync } from './bundle/atomic.js';

/** Synchronous clean-ups that must run on Ctrl-C, SIGTERM and fatal errors (kill the bridge, remove temp dirs). */
const actions = new Set<() => void>();

export function onAbort(action: () => void): () => void {
  actions.add(action);
  return () => actions.delete(action);
}

export function removeDirOnAbort(dir: string): () => void {
  return onAbort(() => rmSync(dir, { recursive: true, force: true }));
}

export function runAbortActions(): void {
  for (const action of actions) {
    try {
      action();
    } catch {
      // best effort: keep cleaning up
    }
  }
  actions.clear();
  removeStagingDirsSync();
}

let installed = false;

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      runAbortActions();
      process.stderr.write(`\ninterrupted (${signal}); nothing was written\n`);
      process.exit(code);
    });
  }
}
