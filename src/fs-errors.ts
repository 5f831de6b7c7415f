import { EnvironmentError, ToolError } from './errors.js';

/** File-system failures that are the machine's, not the user's input nor a bug: exit 4. */
const ENVIRONMENT_ERRNOS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system or for the file size limit (ulimit -f)',
  EROFS: 'the file system is read-only',
  EIO: 'input/output error from the disk',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files in this process (ulimit -n)',
  ENFILE: 'too many open files on the system',
};

/**
 * An errno error from Node's fs (ENOSPC, EFBIG, EROFS, ...) as one `path: problem` line with exit 4;
 * anything else is returned unchanged. `fallbackPath` names the place when the error has no path
 * (writes through a file descriptor carry none).
 */
export function asEnvironmentError(error: unknown, fallbackPath: string, context: string, leftAsItWas = ''): unknown {
  if (error instanceof ToolError || !(error instanceof Error)) return error;
  const errno = error as NodeJS.ErrnoException;
  const problem = errno.code ? ENVIRONMENT_ERRNOS[errno.code] : undefined;
  if (!problem) return error;
  return new EnvironmentError(`${problem} (${errno.code}) ${context}`, {
    file: errno.path ?? fallbackPath,
    code: errno.code,
    hint: `${errno.code === 'ENOSPC' || errno.code === 'EDQUOT' ? 'free space on that file system, then run again' : 'fix the file system or choose another -o, then run again'}${leftAsItWas}`,
  });
}
