import { execa } from 'execa';
import { EnvironmentError } from '../errors.js';

export interface PythonInterpreter {
  /** What was asked for (a path or a command name). */
  command: string;
  /** sys.executable of that interpreter. */
  executable: string;
  version: [number, number, number];
}

const MIN_VERSION: [number, number] = [3, 10];
const PROBE = 'import json, sys; print(json.dumps({"exe": sys.executable, "v": list(sys.version_info[:3])}))';

async function probe(command: string): Promise<PythonInterpreter | null> {
  try {
    const { stdout } = await execa(command, ['-c', PROBE], { timeout: 30_000, reject: true });
    const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { exe: string; v: number[] };
    const [major = 0, minor = 0, patch = 0] = parsed.v;
    return { command, executable: parsed.exe, version: [major, minor, patch] };
  } catch {
    return null;
  }
}

function supported(python: PythonInterpreter): boolean {
  const [major, minor] = python.version;
  return major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]);
}

/**
 * The interpreter the bridge venv is created from: --python, else $RAPIDFIT_EXPORT_PYTHON, else
 * python3 / python on PATH. Exit 4 when none works.
 */
export async function findPython(explicit?: string): Promise<PythonInterpreter> {
  const requested = explicit ?? process.env.RAPIDFIT_EXPORT_PYTHON;
  const candidates = requested ? [requested] : ['python3', 'python'];
  for (const candidate of candidates) {
    const found = await probe(candidate);
    if (found && supported(found)) return found;
    if (found && requested) {
      throw new EnvironmentError(
        `Python ${found.version.join('.')} is too old; the bridge needs Python ${MIN_VERSION.join('.')} or newer`,
        { file: found.executable, hint: 'pass --python with a newer interpreter' },
      );
    }
  }
  throw new EnvironmentError(
    requested
      ? `cannot run Python interpreter "${requested}"`
      : 'no Python interpreter found (tried python3 and python)',
    {
      hint: `install Python ${MIN_VERSION.join('.')}+ or pass --python /path/to/python3 (or set RAPIDFIT_EXPORT_PYTHON)`,
    },
  );
}
