import type { ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { InputError } from '../errors.js';

/**
 * One option table per command: each entry declares the option once (its zod schema with the default,
 * its flag, placeholder and help) and everything else is derived from it: node:util parseArgs'
 * config, the command's help, the defaults, the schema of the validated options and the library API's
 * input type. `group` nests a table under one key (the quantizer's options: flat flags on the command
 * line, `quantization: {...}` in the library API).
 */

/** How the command line's text becomes the schema's input. */
type Kind = 'text' | 'number' | 'list' | 'flag' | 'repeated' | 'switch';

export interface OptionDef<S extends z.ZodType = z.ZodType> {
  readonly kind: Kind;
  readonly schema: S;
  /** The long flag without dashes (default: the key in kebab-case). */
  readonly flag?: string;
  readonly short?: string;
  /** The value's placeholder in the help, e.g. "<dir>". */
  readonly arg?: string;
  /** Its help (lines separated by "\n"), given the default value when the help states it. */
  readonly help: string | ((defaultValue: z.output<S>) => string);
  /** The help heading it is listed under (default "Options"). */
  readonly section?: string;
  /** A switch's `--no-<flag>` line in the help, when both forms are listed. */
  readonly negatedHelp?: string;
  /** Only on the command line (--json, --no-progress) or only in the library API. */
  readonly only?: 'cli' | 'api';
}

export interface GroupDef<T extends OptionTable = OptionTable> {
  readonly kind: 'group';
  readonly table: T;
}

export type OptionTable = { readonly [key: string]: OptionDef | GroupDef };

type ShapeOf<T extends OptionTable> = {
  [K in keyof T]: T[K] extends GroupDef<infer G>
    ? z.ZodObject<ShapeOf<G>>
    : T[K] extends OptionDef<infer S>
      ? S
      : never;
};
export type TableSchema<T extends OptionTable> = z.ZodObject<ShapeOf<T>>;
/** The validated options: every default filled in. */
export type TableOutput<T extends OptionTable> = z.output<TableSchema<T>>;
/** What the library API takes: every option that is not command-line-only, all optional. */
export type ApiInput<T extends OptionTable> = {
  [K in keyof T as T[K] extends { only: 'cli' } ? never : K]?: T[K] extends GroupDef<infer G>
    ? ApiInput<G>
    : T[K] extends OptionDef<infer S>
      ? z.input<S>
      : never;
};

function define<S extends z.ZodType>(kind: Kind, schema: S, more: Omit<OptionDef<S>, 'kind' | 'schema'>): OptionDef<S> {
  return { kind, schema, ...more };
}
type More<S extends z.ZodType> = Omit<OptionDef<S>, 'kind' | 'schema'>;

/** An option with a text value. */
export const text = <S extends z.ZodType>(schema: S, more: More<S>) => define('text', schema, more);
/** An option whose text is a number ("--opset needs a number" otherwise). */
export const number = <S extends z.ZodType>(schema: S, more: More<S>) => define('number', schema, more);
/** "a, b,,c" -> ["a", "b", "c"]. */
export const list = <S extends z.ZodType>(schema: S, more: More<S>) => define('list', schema, more);
/** A boolean flag, off unless given. */
export const flag = <S extends z.ZodType>(schema: S, more: More<S>) => define('flag', schema, more);
/** A repeatable option with a value (an array). */
export const repeated = <S extends z.ZodType>(schema: S, more: More<S>) => define('repeated', schema, more);
/** `--<flag>` and `--no-<flag>`: true, false, or undefined when neither is given (the default decides). */
export const toggle = <S extends z.ZodType>(schema: S, more: More<S>) => define('switch', schema, more);
export const group = <T extends OptionTable>(table: T): GroupDef<T> => ({ kind: 'group', table });

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** An option of a table with where it sits (["quantization", "weightType"]) and its flag. */
interface FlatOption {
  path: string[];
  flag: string;
  def: OptionDef;
}

export function flatten(table: OptionTable, prefix: string[] = []): FlatOption[] {
  return Object.entries(table).flatMap(([key, def]) =>
    def.kind === 'group'
      ? flatten(def.table, [...prefix, key])
      : [{ path: [...prefix, key], flag: def.flag ?? kebab(key), def }],
  );
}

export function tableSchema<T extends OptionTable>(table: T): TableSchema<T> {
  const shape = Object.fromEntries(
    Object.entries(table).map(([key, def]) => [
      key,
      def.kind === 'group' ? tableSchema(def.table).prefault({}) : def.schema,
    ]),
  );
  return z.object(shape) as unknown as TableSchema<T>;
}

/** The default an option's schema gives when nothing is passed, if any. */
function defaultOf(schema: z.ZodType): unknown {
  const parsed = schema.safeParse(undefined);
  return parsed.success ? parsed.data : undefined;
}

/** node:util parseArgs' options for the command-line options of a table. */
export function parseArgsOptions(table: OptionTable): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const { flag: name, def } of flatten(table)) {
    if (def.only === 'api') continue;
    const short = def.short ? { short: def.short } : {};
    if (def.kind === 'flag') options[name] = { type: 'boolean', ...short };
    else if (def.kind === 'switch') {
      options[name] = { type: 'boolean', ...short };
      options[`no-${name}`] = { type: 'boolean' };
    } else options[name] = { type: 'string', ...short, ...(def.kind === 'repeated' ? { multiple: true } : {}) };
  }
  return options;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function cliValue(name: string, def: OptionDef, values: Readonly<Record<string, unknown>>): unknown {
  const raw = values[name];
  switch (def.kind) {
    case 'flag':
      return raw === true ? true : undefined;
    case 'switch':
      return values[`no-${name}`] === true ? false : raw === true ? true : undefined;
    case 'number': {
      if (raw === undefined) return undefined;
      const value = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
        throw new InputError(
          `--${name} needs a number, got ${typeof raw === 'string' ? `"${raw}"` : JSON.stringify(raw)}`,
        );
      }
      return value;
    }
    case 'list':
      return typeof raw === 'string' ? splitList(raw) : undefined;
    default:
      return raw;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path.at(-1)!] = value;
}

/** parseArgs' values -> the schema's input (numbers parsed, lists split, groups nested); unset options left out. */
export function inputFromArgs(table: OptionTable, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const { path, flag: name, def } of flatten(table)) {
    if (def.only === 'api') continue;
    const value = cliValue(name, def, values);
    if (value !== undefined) setPath(input, path, value);
  }
  return input;
}

/** zod's problems as "--opset: opset must be at least 14" (command line) or "opset: ..." (library). */
function describeIssues(table: OptionTable, error: z.ZodError, style: 'cli' | 'api'): string {
  const flags = new Map(flatten(table).map((option) => [option.path.join('.'), option.flag]));
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String);
      if (style === 'api') return `${path.join('.') || 'options'}: ${issue.message}`;
      const known = [...path.keys()].reverse().map((end) => flags.get(path.slice(0, end + 1).join('.')));
      const name = known.find((flag) => flag !== undefined);
      return `${name ? `--${name}` : 'options'}: ${issue.message}`;
    })
    .join('; ');
}

/** Validates a table's input: the first problems as one InputError. */
export function parseTable<T extends OptionTable>(
  table: T,
  schema: z.ZodType<TableOutput<T>>,
  input: unknown,
  style: 'cli' | 'api',
): TableOutput<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const message = describeIssues(table, parsed.error, style);
  throw new InputError(style === 'api' ? `options: ${message}` : message);
}

const HELP_COLUMN = 27;

function helpOf(def: OptionDef): string {
  return typeof def.help === 'function' ? def.help(defaultOf(def.schema)) : def.help;
}

/** The help lines of a table's command-line options, by section (in table order). */
export function helpSections(table: OptionTable): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  for (const { flag: name, def } of flatten(table)) {
    if (def.only === 'api') continue;
    const shown = def.kind === 'switch' && defaultOf(def.schema) === true ? `no-${name}` : name;
    const left = `  ${def.short ? `-${def.short}, ` : '    '}--${shown}${def.arg ? ` ${def.arg}` : ''}`;
    const [first = '', ...rest] = helpOf(def).split('\n');
    const lines = [
      `${left.padEnd(HELP_COLUMN - 1)} ${first}`,
      ...rest.map((line) => `${' '.repeat(HELP_COLUMN)}${line}`),
    ];
    if (def.negatedHelp) lines.push(`${`      --no-${name}`.padEnd(HELP_COLUMN - 1)} ${def.negatedHelp}`);
    const section = def.section ?? 'Options';
    sections.set(section, [...(sections.get(section) ?? []), ...lines]);
  }
  return sections;
}
