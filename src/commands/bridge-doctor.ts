import { LOCK_FILE } from '../paths.js';
import { BRIDGE_DOCTOR_OPTIONS } from '../options/inspect.js';
import { bridgeSessionOptions } from './bridge-options.js';
import { defineCommand, print } from './command.js';

/** `rapidfit-export bridge doctor`: the bridge's interpreter, library versions, lock hash and venv. */
export const bridgeDoctorCommand = defineCommand({
  name: 'bridge doctor',
  usage: '',
  summary: "the Python bridge's interpreter, versions, lock hash and venv",
  description: `Find the Python interpreter, create or reuse the pinned bridge venv, start the bridge and print
the interpreter, the lock file and its sha256, the venv and the versions of the bridge's libraries.`,
  options: BRIDGE_DOCTOR_OPTIONS,
  maxPositionals: 0,
  async run({ options: values }) {
    const bridgeOptions = bridgeSessionOptions(values);
    const { findPython } = await import('../bridge/python.js');
    const { cacheRoot, lockHash, venvDirFor, venvState } = await import('../bridge/venv.js');
    const { openBridge } = await import('../bridge/session.js');
    const { runtimeFacts } = await import('../environment.js');
    const interpreter = await findPython(values.python);
    const hash = lockHash();
    const venvDir = venvDirFor(interpreter, hash);
    const before = venvState(venvDir, hash);
    const session = await openBridge(bridgeOptions);
    try {
      const versions = session.client.versions;
      const report = {
        interpreter: {
          command: interpreter.command,
          executable: interpreter.executable,
          version: interpreter.version.join('.'),
        },
        lockFile: LOCK_FILE,
        lockSha256: hash,
        cacheDir: cacheRoot(),
        venvDir,
        venvStateBefore: before,
        installedNow: session.environment.created,
        bridge: versions,
        runtime: runtimeFacts(),
      };
      const text = [
        `interpreter   ${interpreter.executable} (Python ${interpreter.version.join('.')})`,
        `lock          ${LOCK_FILE}`,
        `lock sha256   ${hash}`,
        `venv          ${venvDir} (${before === 'ready' ? 'ready' : `was ${before}, installed now`})`,
        ...Object.entries(versions)
          .filter(([key]) => key !== 'executable' && key !== 'platform')
          .map(([key, value]) => `${key.padEnd(13)} ${value ?? 'not installed'}`),
        `node          ${process.version}, onnxruntime-node ${runtimeFacts().onnxruntimeNode ?? 'unknown'}`,
      ].join('\n');
      print(values.json, report, text);
    } finally {
      await session.client.close();
    }
  },
});
