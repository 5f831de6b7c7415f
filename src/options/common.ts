import { z } from 'zod';
import { flag, number, text, toggle } from './table.js';

const COMMON = 'Common';

/** Every command's output options (command line only: the library API never prints). */
export const OUTPUT_OPTIONS = {
  json: flag(z.boolean().default(false), {
    help: 'print a machine-readable result (or error) on stdout',
    section: COMMON,
    only: 'cli',
  }),
  progress: toggle(z.boolean().default(true), {
    help: 'plain log lines instead of a live task list (automatic when not a TTY)',
    section: COMMON,
    only: 'cli',
  }),
};

/** The commands that start the Python bridge. */
export const BRIDGE_OPTIONS = {
  /** Interpreter the bridge venv is created from (default $RAPIDFIT_EXPORT_PYTHON, else python3). */
  python: text(z.string().min(1).optional(), {
    arg: '<path>',
    help: 'interpreter to build the bridge venv from (default: $RAPIDFIT_EXPORT_PYTHON, else python3)',
    section: COMMON,
  }),
  verbose: flag(z.boolean().default(false), {
    help: "forward the bridge's own log output (transformers, torch) to stderr",
    section: COMMON,
    only: 'cli',
  }),
  /**
   * Seconds a bridge request may go without a sign of life (answer, progress or the bridge's 2-s
   * heartbeat) before the bridge is declared hung and killed (exit 4); 0 = no limit.
   */
  // the default is DEFAULT_BRIDGE_TIMEOUT_SECONDS of src/bridge/client.ts, not imported: it would load execa for
  // every --help (test/integration/cli-options.test.ts checks that the two agree)
  bridgeTimeoutSeconds: number(
    z.number().min(0, 'the bridge timeout must be 0 (none) or more seconds').max(86_400).optional(),
    {
      flag: 'bridge-timeout',
      arg: '<seconds>',
      help: 'seconds a bridge request may go without a sign of life (answer, progress, heartbeat)\nbefore the bridge is killed (exit 4); 0: no limit (default 600)',
      section: COMMON,
    },
  ),
};
