import { BridgeClient } from './client.js';
import { findPython, type PythonInterpreter } from './python.js';
import { ensureBridgeEnvironment, markVenvBroken, repairBridgeEnvironment, type BridgeEnvironment } from './venv.js';
import { ToolError } from '../errors.js';

export interface BridgeSession {
  interpreter: PythonInterpreter;
  environment: BridgeEnvironment;
  client: BridgeClient;
}

/**
 * Finds Python, makes sure the pinned venv exists, and starts the bridge. A venv whose packages no
 * longer import (ENV_BROKEN) is first repaired in place (pip installs what is missing from the lock,
 * seconds), and if it is still broken, or pip fails, rebuilt from scratch once (minutes).
 */
export async function openBridge(options: {
  python?: string;
  verbose?: boolean;
  /** Inactivity timeout of every bridge request, in seconds (0: none); see DEFAULT_BRIDGE_TIMEOUT_SECONDS. */
  bridgeTimeoutSeconds?: number;
  onProgress?: (line: string) => void;
}): Promise<BridgeSession> {
  const interpreter = await findPython(options.python);
  for (let attempt = 0; ; attempt += 1) {
    const environment = await ensureBridgeEnvironment(interpreter, options.onProgress);
    options.onProgress?.(`starting the bridge (${environment.venvDir})`);
    try {
      const client = await BridgeClient.start({
        python: environment.python,
        verbose: options.verbose ?? false,
        ...(options.bridgeTimeoutSeconds !== undefined ? { inactivityTimeoutMs: options.bridgeTimeoutSeconds * 1000 } : {}),
      });
      return { interpreter, environment, client };
    } catch (error) {
      if (attempt < 2 && error instanceof ToolError && error.details.code === 'ENV_BROKEN') {
        options.onProgress?.(`the bridge environment is broken (${error.message.split('\n')[0]!.slice(0, 160)})`);
        if (attempt === 0 && (await repairBridgeEnvironment(interpreter, options.onProgress))) continue;
        options.onProgress?.('rebuilding the bridge environment');
        await markVenvBroken(environment.venvDir);
        attempt = 1;
        continue;
      }
      throw error;
    }
  }
}
