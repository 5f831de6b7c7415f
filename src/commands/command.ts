import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError, type ExitCodeValue } from '../errors.js';

/** One option of a command: what node:util parseArgs needs, plus its line(s) in the command's help. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: boolean;
  /** The value's placeholder in the help, e.g. "<dir>". */
  readonly arg?: string;
  /** The help text (lines separated by "\n"); an option without it is not listed (e.g. --progress beside --no-progress). */
  readonly help?: string;
  /** The help heading it is listed under (default "Options"). */
  readonly section?: string;
}
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type Value<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S extends { multiple: true }
    ? string[]
    : string;
/** The parsed values of a table: options with a default are always set. */
export type Values<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends { default: boolean } ? Value<T[K]> : Value<T[K]> | undefined;
};

/** A boolean option, off by default. */
export function flag(help?: string, section?: string) {
  return {
    type: 'boolean',
    default: false,
    ...(help === undefined ? {} : { help }),
    ...(section === undefined ? {} : { section }),
  } as {
    type: 'boolean';
    default: false;
    help?: string;
    section?: string;
  };
}

/** An option with a value. */
export function valued(arg: string, help: string, more: { short?: string; section?: string } = {}) {
  return { type: 'string', arg, help, ...more } as {
    type: 'string';
    arg: string;
    help: string;
    short?: string;
    section?: string;
  };
}

/** A repeatable option with a value. */
export function repeated(arg: string, help: string, more: { section?: string } = {}) {
  return { type: 'string', multiple: true, arg, help, ...more } as {
    type: 'string';
    multiple: true;
    arg: string;
    help: string;
    section?: string;
  };
}

/**
 * A negatable switch that is on by default: `--no-<name>` turns it off, `--<name>` is accepted too
 * (declared as a pair: node 20.10's parseArgs has no allowNegative). Read it with {@link isOn}.
 */
export function negatable<const Name extends string>(name: Name, help: string, section?: string) {
  return {
    [name]: { type: 'boolean', default: true },
    [`no-${name}`]: { type: 'boolean', default: false, help, ...(section === undefined ? {} : { section }) },
  } as { [K in Name]: { type: 'boolean'; default: true } } & {
    [K in `no-${Name}`]: { type: 'boolean'; default: false; help: string; section?: string };
  };
}

/** A switch declared with {@link negatable}: on unless --no-<name> was given. */
export function isOn(values: Record<string, unknown>, name: string): boolean {
  return values[name] !== false && values[`no-${name}`] !== true;
}

/** Every command's `-h, --help`. */
const HELP_OPTION = {
  help: { type: 'boolean', short: 'h', default: false, help: 'this help', section: 'Common' },
} as const satisfies OptionTable;

export interface CommandInput<T extends OptionTable> {
  positionals: string[];
  values: Values<T>;
}

/** A command parsed from its own option table. */
export interface Command<T extends OptionTable = OptionTable> {
  /** As typed after `rapidfit-export`: "verify", "bridge doctor". */
  readonly name: string;
  /** Its arguments in the usage line: "<bundle>". */
  readonly usage: string;
  /** One line in the top-level help. */
  readonly summary: string;
  /** Paragraphs of the command's own help, between the usage line and the options. */
  readonly description: string;
  readonly options: T;
  /** The most positional arguments it takes; more exit 2. */
  readonly maxPositionals: number;
  /** When its first argument is required: the message (and hint) of exit 2 without it. */
  readonly required?: { readonly missing: string; readonly hint: string };
  /** Runs the command; errors are ToolErrors, mapped to exit codes by the CLI. */
  run(input: CommandInput<T>): Promise<void>;
}

/** A command that parses its own argv (predict); its table only vets option names first. */
export interface RawCommand {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  load(): Promise<{ options: OptionTable; runArgv(argv: string[]): Promise<ExitCodeValue> }>;
}

export function defineCommand<const T extends OptionTable>(command: Command<T>): Command<T> {
  return command;
}

function helpPointer(name: string): string {
  return `see rapidfit-export ${name} --help`;
}

function parseArgsOptions(table: OptionTable): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries<OptionSpec>({ ...table, ...HELP_OPTION }).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.short ? { short: spec.short } : {}),
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
      },
    ]),
  );
}

/**
 * Exits 2 (one line naming the option and the command) on the first option that is not in the
 * command's table, whether it is another command's option or nobody's.
 */
export function refuseForeignOptions(name: string, table: OptionTable, argv: string[]): void {
  const options = parseArgsOptions(table);
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const foreign = tokens.find((token) => token.kind === 'option' && !Object.hasOwn(options, token.name));
  if (foreign?.kind === 'option') {
    throw new InputError(`${name}: ${foreign.rawName} is not an option of ${name} (${helpPointer(name)})`);
  }
}

/** Parses a command's argv against its table (plus -h/--help): option names, values and positional count. */
export function parseCommandArgs<T extends OptionTable>(
  command: Command<T>,
  argv: string[],
): CommandInput<T> & { help: boolean } {
  refuseForeignOptions(command.name, command.options, argv);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: parseArgsOptions(command.options),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new InputError(`${command.name}: ${(error as Error).message.split('\n')[0]!} (${helpPointer(command.name)})`);
  }
  const { help, ...values } = parsed.values as Record<string, unknown>;
  if (!help && parsed.positionals.length > command.maxPositionals) {
    throw new InputError(
      `${command.name}: unexpected argument "${parsed.positionals[command.maxPositionals]}" (${helpPointer(command.name)})`,
    );
  }
  if (!help && command.required && parsed.positionals.length === 0)
    throw new InputError(command.required.missing, { hint: command.required.hint });
  return { positionals: parsed.positionals, values: values as Values<T>, help: help === true };
}

const HELP_COLUMN = 27;

function optionLines(name: string, spec: OptionSpec): string[] {
  const left = `  ${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.arg ? ` ${spec.arg}` : ''}`;
  const [first = '', ...rest] = (spec.help ?? '').split('\n');
  return [`${left.padEnd(HELP_COLUMN - 1)} ${first}`, ...rest.map((line) => `${' '.repeat(HELP_COLUMN)}${line}`)];
}

/** A command's help: usage, description, then its options only, by section. */
export function commandHelp(command: Command): string {
  const sections = new Map<string, string[]>();
  for (const [name, spec] of Object.entries<OptionSpec>({ ...command.options, ...HELP_OPTION })) {
    if (spec.help === undefined) continue;
    const section = spec.section ?? 'Options';
    sections.set(section, [...(sections.get(section) ?? []), ...optionLines(name, spec)]);
  }
  return [
    `Usage: rapidfit-export ${[command.name, command.usage].filter(Boolean).join(' ')} [options]`,
    '',
    command.description,
    ...[...sections].map(([section, lines]) => `\n${section}:\n${lines.join('\n')}`),
  ].join('\n');
}

/** Writes a command's result: JSON with --json, else the text. */
export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}
