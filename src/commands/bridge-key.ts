import { BRIDGE_KEY_OPTIONS } from '../options/bridge-key.js';
import { defineCommand, print } from './command.js';

/** `rapidfit-export bridge key`: the CI cache key of the bridge venv (nothing is installed or started). */
export const bridgeKeyCommand = defineCommand({
  name: 'bridge key',
  usage: '',
  summary: 'the cache key of the bridge venv (lock sha256, Python, OS) for CI caches',
  description: `Print the key a CI cache (actions/cache) should store the bridge venv under, on one line: the
venv directory's name (the sha256 of python-bridge/requirements.lock and the Python version, as the
venv is named) with the OS, CPU and the interpreter's patch version. --json adds the directory to
cache ($RAPIDFIT_EXPORT_CACHE, else ~/.cache/rapidfit-export) and the venv. Installs nothing.`,
  options: BRIDGE_KEY_OPTIONS,
  maxPositionals: 0,
  async run({ options }) {
    const { findPython } = await import('../bridge/python.js');
    const { bridgeCacheKey } = await import('../bridge/cache-key.js');
    const key = bridgeCacheKey(await findPython(options.python));
    print(options.json, key, key.key);
  },
});
