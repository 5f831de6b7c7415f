import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import {
  helpSections,
  inputFromArgs,
  parseArgsOptions,
  parseTable,
  tableSchema,
  type OptionTable,
  type TableOutput,
} from '../options/table.js';

/** Every command's `-h, --help`. */
const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;
const HELP_LINE = `${'  -h, --help'.padEnd(26)} this help`;

/** A command: its option table (src/options/), how its validated options are made, and what it runs. */
export interface Command<T extends OptionTable = OptionTable, O = TableOutput<T>> {
  /** As typed after `rapidfit-export`: "verify", "bridge doctor". */
  readonly name: string;
  /** Its arguments in the usage line: "<bundle>". */
  readonly usage: string;
  /** One line in the top-level help. */
  readonly summary: string;
  /** Paragraphs of the command's own help, between the usage line and the options. */
  readonly description: string;
  readonly options: T;
  /** The most positional arguments it takes; more exit 2 (undefined: any number). */
  readonly maxPositionals?: number;
  /** When its first argument is required: the message (and hint) of exit 2 without it. */
  readonly required?: { readonly missing: string; readonly hint: string };
  /** The validated options from the command line's (default: the table's schema). */
  parse?(input: Record<string, unknown>, positionals: readonly string[]): O;
  /** Runs the command; errors are ToolErrors, mapped to exit codes by the CLI. */
  run(input: { positionals: string[]; options: O }): Promise<void>;
}

export function defineCommand<const T extends OptionTable, O = TableOutput<T>>(command: Command<T, O>): Command<T, O> {
  return command;
}

function helpPointer(name: string): string {
  return `see rapidfit-export ${name} --help`;
}

/**
 * Exits 2 (one line naming the option and the command) on the first option that is not in the
 * command's table, whether it is another command's option or nobody's.
 */
function refuseForeignOptions(name: string, table: OptionTable, argv: string[]): void {
  const options = { ...parseArgsOptions(table), ...HELP_FLAG };
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const foreign = tokens.find((token) => token.kind === 'option' && !Object.hasOwn(options, token.name));
  if (foreign?.kind === 'option') {
    throw new InputError(`${name}: ${foreign.rawName} is not an option of ${name} (${helpPointer(name)})`);
  }
}

/** A command's argv as its validated options: option names, values, positional count, then the schema. */
export function parseCommandLine<T extends OptionTable, O>(
  command: Command<T, O>,
  argv: string[],
): { help: true } | { help: false; positionals: string[]; options: O } {
  refuseForeignOptions(command.name, command.options, argv);
  let parsed;
  try {
    const options = { ...parseArgsOptions(command.options), ...HELP_FLAG };
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InputError(`${command.name}: ${(error as Error).message.split('\n')[0]!} (${helpPointer(command.name)})`);
  }
  const { help, ...values } = parsed.values as Record<string, unknown>;
  if (help === true) return { help: true };
  const { positionals } = parsed;
  if (command.maxPositionals !== undefined && positionals.length > command.maxPositionals) {
    throw new InputError(
      `${command.name}: unexpected argument "${positionals[command.maxPositionals]}" (${helpPointer(command.name)})`,
    );
  }
  if (command.required && positionals.length === 0) {
    throw new InputError(command.required.missing, { hint: command.required.hint });
  }
  const input = inputFromArgs(command.options, values);
  const options = command.parse
    ? command.parse(input, positionals)
    : (parseTable(command.options, tableSchema(command.options), input, 'cli') as O);
  return { help: false, positionals, options };
}

/** A command's help: usage, description, then its options only, by section. */
export function commandHelp(command: Command<OptionTable, unknown>): string {
  const sections = helpSections(command.options);
  sections.set('Common', [...(sections.get('Common') ?? []), HELP_LINE]);
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
