#!/usr/bin/env node
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { installSignalHandlers, runAbortActions } from './cleanup.js';
import { commandHelp, parseCommandLine, type Command } from './commands/command.js';
import { COMMANDS, DEFAULT_COMMAND } from './commands/index.js';
import { ExitCode, formatToolError, InputError, ToolError, type ExitCodeValue } from './errors.js';
// The dispatcher: global -h/-v, the command, exit codes. Each command (src/commands/) declares its
// options, help and run function, and imports the bridge, the pipeline and onnxruntime-node's
// sessions when it runs, so that `--help` and the Python-free commands start quickly.

function usageOf(command: Command): string {
  const name = command === DEFAULT_COMMAND ? `[${command.name}]` : command.name;
  return `rapidfit-export ${[name, command.usage].filter(Boolean).join(' ')}`;
}

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => usageOf(command).length)) + 2;
  return `rapidfit-export: turn a trained RapidFit model into a verified ONNX bundle

Usage: rapidfit-export <command> [arguments] [options]

Commands:
${COMMANDS.map((command) => `  ${usageOf(command).padEnd(width)}${command.summary}`).join('\n')}

Each command takes its own options: rapidfit-export <command> --help lists them (the export's:
rapidfit-export export --help). An option that is not one of the command's exits 2.
  -h, --help               this help
  -v, --version            the tool version

Exit codes: 0 ok, 1 internal error, 2 bad input or usage, 3 parity gate failed, 4 Python bridge or environment failure.`;
}

const HELP_FLAGS = ['-h', '--help'];

/** The command named by the first word(s) of argv, and its own arguments; a model directory runs export. */
function pickCommand(argv: string[]): { command: Command; args: string[] } | 'help' {
  const named = COMMANDS.find((command) => command.name.split(' ').every((word, index) => argv[index] === word));
  if (named) return { command: named, args: argv.slice(named.name.split(' ').length) };
  const [first, second] = argv;
  const group = COMMANDS.filter((command) => command.name.startsWith(`${first} `));
  if (group.length > 0) {
    if (second !== undefined && HELP_FLAGS.includes(second)) return 'help';
    const words = group.map((command) => command.name.slice(first!.length + 1)).join(', ');
    throw new InputError(
      `${first}: ${second === undefined ? 'no command given' : `unknown command "${second}"`} (${first} commands: ${words}; see rapidfit-export --help)`,
    );
  }
  if (first !== undefined && /^[a-z][\w-]*$/i.test(first) && !existsSync(first)) {
    const names = COMMANDS.map((command) => command.name).join(', ');
    throw new InputError(
      `unknown command "${first}", and no model directory of that name (commands: ${names}; see rapidfit-export --help)`,
    );
  }
  return { command: DEFAULT_COMMAND, args: argv };
}

async function dispatch(argv: string[]): Promise<ExitCodeValue> {
  if (argv[0] === '-v' || argv[0] === '--version') {
    const { toolVersion } = await import('./environment.js');
    process.stdout.write(`${toolVersion()}\n`);
    return ExitCode.ok;
  }
  const picked = HELP_FLAGS.includes(argv[0] ?? '') ? 'help' : pickCommand(argv);
  if (picked === 'help') {
    process.stdout.write(`${topLevelHelp()}\n`);
    return ExitCode.ok;
  }
  const { command, args } = picked;
  const parsed = parseCommandLine(command, args);
  if (parsed.help) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return ExitCode.ok;
  }
  await command.run(parsed);
  return ExitCode.ok;
}

export async function main(argv: string[]): Promise<ExitCodeValue> {
  installSignalHandlers();
  const json = argv.includes('--json');
  try {
    return await dispatch(argv);
  } catch (error) {
    runAbortActions();
    if (error instanceof ToolError) {
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ ok: false, exitCode: error.exitCode, error: { message: error.message, ...error.details }, result: error.payload ?? null }, null, 2)}\n`,
        );
      }
      process.stderr.write(`${formatToolError(error)}\n`);
      if (error.exitCode === ExitCode.internal && error.stack) process.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (json)
      process.stdout.write(
        `${JSON.stringify({ ok: false, exitCode: 1, error: { message: String(error) } }, null, 2)}\n`,
      );
    process.stderr.write(`internal error (please report it): ${message}\n`);
    return ExitCode.internal;
  }
}

function isMain(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = ExitCode.internal;
    },
  );
}
