import { BridgeClient } from './client.js';
import { findPython, type PythonInterpreter } from './python.js';
import { ensureBridgeEnvironment, markVenvBroken, type BridgeEnvironment } from './venv.js';
import { ToolError } from '../errors.js';

export interface BridgeSession {
  interpreter: PythonInterpreter;
  environment: BridgeEnvironment;
  client: BridgeClient;
}

/**
 * Finds Python, makes sure the pinned venv exists, and starts the bridge. A venv whose packages no
 * longer import (ENV_BROKEN) is rebuilt once.
 */
export async function openBridge(options: {
  python?: string;
  verbose?: boolean;
  onProgress?: (line: string) => void;
}): Promise<BridgeSession> {
  const interpreter = await findPython(options.python);
  for (let attempt = 0; ; attempt += 1) {
    const environment = await ensureBridgeEnvironment(interpreter, options.onProgress);
    options.onProgress?.(`starting the bridge (${environment.venvDir})`);
    try {
      const client = await BridgeClient.start({ python: environment.python, verbose: options.verbose ?? false });
      return { interpreter, environment, client };
    } catch (error) {
      if (attempt === 0 && error instanceof ToolError && error.details.code === 'ENV_BROKEN') {
        options.onProgress?.('the bridge environment is broken; rebuilding it');
        await markVenvBroken(environment.venvDir);
        continue;
      }
      throw error;
    }
  }
}
