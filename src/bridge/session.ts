import { BridgeClient, type StartOptions } from './client.js';
import { findPython, type PythonInterpreter } from './python.js';
import {
  ensureBridgeEnvironment,
  installedEnvironment,
  markVenvBroken,
  repairBridgeEnvironment,
  type BridgeEnvironment,
} from './venv.js';
import { ToolError } from '../errors.js';

export interface BridgeSession {
  interpreter: PythonInterpreter;
  environment: BridgeEnvironment;
  client: BridgeClient;
}

export interface BridgeOptions {
  python?: string;
  verbose?: boolean;
  /** Inactivity timeout of every bridge request, in seconds (0: none); see DEFAULT_BRIDGE_TIMEOUT_SECONDS. */
  bridgeTimeoutSeconds?: number;
}

/** What BridgeClient.start takes to run `environment`'s interpreter with these options. */
function startOptions(environment: BridgeEnvironment, options: BridgeOptions): StartOptions {
  return {
    python: environment.python,
    verbose: options.verbose ?? false,
    ...(options.bridgeTimeoutSeconds !== undefined ? { inactivityTimeoutMs: options.bridgeTimeoutSeconds * 1000 } : {}),
  };
}

/**
 * Finds Python, makes sure the pinned venv exists, and starts the bridge. A venv whose packages no
 * longer import (ENV_BROKEN) is first repaired in place (pip installs what is missing from the lock,
 * seconds), and if it is still broken, or pip fails, rebuilt from scratch once (minutes).
 */
export async function openBridge(
  options: BridgeOptions & { onProgress?: (line: string) => void },
): Promise<BridgeSession> {
  const interpreter = await findPython(options.python);
  for (let attempt = 0; ; attempt += 1) {
    const environment = await ensureBridgeEnvironment(interpreter, options.onProgress);
    options.onProgress?.(`starting the bridge (${environment.venvDir})`);
    try {
      const client = await BridgeClient.start(startOptions(environment, options));
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

/** A bridge started ahead of the pipeline (startInstalledBridge); `cancel` kills it if it is not used. */
export interface EarlyBridge {
  session: Promise<BridgeSession | undefined>;
  /** Settles once the process is spawned, or once it is known that it will not be. */
  spawned: Promise<void>;
  cancel: () => Promise<void>;
}

/**
 * Starts the bridge at once when its venv is already installed, so that Python's start-up (importing
 * torch, 2-3 s) overlaps the loading of the pipeline's modules and the input checks. Installing,
 * repairing and reporting problems stay with openBridge: any problem here gives undefined, and the
 * pipeline's step starts the bridge the usual way.
 */
export function startInstalledBridge(options: BridgeOptions): EarlyBridge {
  const abort = new AbortController();
  let markSpawned: () => void = () => undefined;
  const spawned = new Promise<void>((resolve) => (markSpawned = resolve));
  const session = (async (): Promise<BridgeSession | undefined> => {
    try {
      const interpreter = await findPython(options.python);
      const environment = installedEnvironment(interpreter);
      if (!environment || abort.signal.aborted) return undefined;
      // the process is spawned before start() first awaits
      const starting = BridgeClient.start({ ...startOptions(environment, options), signal: abort.signal });
      markSpawned();
      return { interpreter, environment, client: await starting };
    } catch {
      return undefined;
    } finally {
      markSpawned();
    }
  })();
  return {
    session,
    spawned,
    cancel: async () => {
      abort.abort();
      (await session)?.client.kill();
    },
  };
}
