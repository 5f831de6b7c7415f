import { DEFAULTS, describeZodError, exportOptionsSchema } from '../config/options.js';
import { InputError } from '../errors.js';
import {
  DEFAULT_QUANTIZE_OPTIONS,
  ORT_DYNAMIC_OP_TYPES,
  quantizeOptionsSchema,
  type QuantizeOptions,
} from '../quantize/options.js';
import { flag, negatable, valued, type Values } from './command.js';

/** Options several commands take, declared once: each command spreads the ones it takes into its table. */
const COMMON = 'Common';

/** Every command's output options. */
export const OUTPUT_OPTIONS = {
  json: flag('print a machine-readable result (or error) on stdout', COMMON),
  ...negatable('progress', 'plain log lines instead of a live task list (automatic when not a TTY)', COMMON),
};

/** The commands that start the Python bridge. */
export const BRIDGE_OPTIONS = {
  python: valued(
    '<path>',
    'interpreter to build the bridge venv from (default: $RAPIDFIT_EXPORT_PYTHON, else python3)',
    { section: COMMON },
  ),
  verbose: flag("forward the bridge's own log output (transformers, torch) to stderr", COMMON),
  // the default is DEFAULT_BRIDGE_TIMEOUT_SECONDS of src/bridge/client.ts, not imported: it would load execa for every
  // --help (test/integration/cli-options.test.ts checks that the two agree)
  'bridge-timeout': valued(
    '<seconds>',
    'seconds a bridge request may go without a sign of life (answer, progress, heartbeat)\nbefore the bridge is killed (exit 4); 0: no limit (default 600)',
    { section: COMMON },
  ),
};

/** --int8 auto's search budget: export and quantize. */
export const INT8_BUDGET_OPTION = {
  'int8-budget': valued('<n>', `auto: most candidate graphs to try (default ${DEFAULTS.int8Budget})`),
};

const QUANTIZE = 'Quantize options (how INT8 weights are made)';

/** How weights are quantized: `quantize`, and the <task>_int8.onnx graphs of an export. */
export const QUANTIZE_OPTIONS = {
  'weight-type': valued('<t>', 'int8 (symmetric, default) or uint8 (asymmetric)', { section: QUANTIZE }),
  'per-channel': flag('one scale per output channel of each weight', QUANTIZE),
  'reduce-range': flag('7-bit weights (for CPUs without VNNI)', QUANTIZE),
  'op-types': valued('<a,b>', `op types to quantize (default: ONNX Runtime's: ${ORT_DYNAMIC_OP_TYPES.join(',')})`, {
    section: QUANTIZE,
  }),
  'exclude-nodes': valued('<a,b>', 'node names to leave in float', { section: QUANTIZE }),
};

/** "a, b,,c" -> ["a", "b", "c"]. */
export function splitList(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A number option's value, or `fallback` when it was not given; "--<name> needs a number" otherwise. */
export function numberOption(values: Readonly<Record<string, unknown>>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
    throw new InputError(`--${name} needs a number, got "${String(raw)}"`);
  }
  return value;
}

/** Library quantize options from the quantize group and --external-data. */
export function buildQuantizeOptions(
  values: Values<typeof QUANTIZE_OPTIONS> & { 'external-data': boolean },
  command: string,
): QuantizeOptions {
  const parsed = quantizeOptionsSchema.safeParse({
    weightType: values['weight-type'] ?? DEFAULT_QUANTIZE_OPTIONS.weightType,
    perChannel: values['per-channel'],
    reduceRange: values['reduce-range'],
    opTypes: splitList(values['op-types']) ?? DEFAULT_QUANTIZE_OPTIONS.opTypes,
    excludeNodes: splitList(values['exclude-nodes']) ?? [],
    externalData: values['external-data'] ? 'always' : 'auto',
  });
  if (!parsed.success)
    throw new InputError(describeZodError(parsed.error), { hint: `see rapidfit-export ${command} --help` });
  return parsed.data;
}

/** --bridge-timeout in seconds, checked by the library's schema; undefined when not given. */
export function bridgeTimeoutSeconds(values: Values<typeof BRIDGE_OPTIONS>): number | undefined {
  if (values['bridge-timeout'] === undefined) return undefined;
  const parsed = exportOptionsSchema.shape.bridgeTimeoutSeconds.safeParse(numberOption(values, 'bridge-timeout', 0));
  if (!parsed.success) throw new InputError(`--bridge-timeout: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/** openBridge's options from the bridge group; its progress (venv install, start) goes to stderr. */
export function bridgeSessionOptions(values: Values<typeof BRIDGE_OPTIONS>) {
  const timeout = bridgeTimeoutSeconds(values);
  return {
    ...(values.python ? { python: values.python } : {}),
    ...(timeout === undefined ? {} : { bridgeTimeoutSeconds: timeout }),
    verbose: values.verbose,
    onProgress: (line: string) => process.stderr.write(`${line}\n`),
  };
}
