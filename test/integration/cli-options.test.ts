import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BRIDGE_TIMEOUT_SECONDS } from '../../src/bridge/client.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli, scratchDir } from '../helpers/cli.js';

// Every case here fails or prints help before anything runs: no bridge, no model, no ONNX Runtime session.

/** A refused command line: exit 2, exactly one line on stderr (no stack trace, no hint), nothing on stdout. */
async function refused(args: string[], message: RegExp) {
  const run = await runCli(args);
  expect(run.exitCode, run.stderr).toBe(2);
  expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at |Error:|Traceback/m);
  expect(run.stdout).toBe('');
  return run;
}

/** The long options a help text lists. */
function listedOptions(help: string): string[] {
  return [...help.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((match) => match[1]!);
}

describe.concurrent('options per command', () => {
  const root = scratchDir('rfe-cli-');
  const missing = (name: string) => join(root, name);

  it.each([
    ['export', [missing('model'), '--variant', 'int8'], '--variant'],
    ['export', ['export', missing('model'), '--tokenizer', root], '--tokenizer'],
    ['inspect', ['inspect', missing('m.onnx'), '--opset', '17'], '--opset'],
    ['quantize', ['quantize', missing('m.onnx'), '--python', 'python3'], '--python'],
    ['verify', ['verify', missing('bundle'), '--opset', '3'], '--opset'],
    ['predict', ['predict', missing('bundle'), 'some text', '--out', root], '--out'],
    ['bridge doctor', ['bridge', 'doctor', '--junit', missing('gates.xml')], '--junit'],
  ])('%s refuses an option of another command: %j', async (command, args, option) => {
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await refused(
      args,
      new RegExp(
        `^error: ${escaped(command)}: ${escaped(option)} is not an option of ${escaped(command)} \\(see rapidfit-export ${escaped(command)} --help\\)$`,
      ),
    );
  });

  it('refuses an option no command has, and a short option of another command', async () => {
    await refused(
      ['verify', missing('bundle'), '--colour', 'blue'],
      /^error: verify: --colour is not an option of verify \(see rapidfit-export verify --help\)$/,
    );
    await refused(['verify', missing('bundle'), '-o', 'x'], /^error: verify: -o is not an option of verify/);
    await refused([missing('model'), '--colour'], /^error: export: --colour is not an option of export/);
  });

  it('refuses a missing option value and an extra argument, naming the command', async () => {
    await refused(
      ['verify', missing('bundle'), '--junit'],
      /^error: verify: Option '--junit <value>' argument missing \(see rapidfit-export verify --help\)$/,
    );
    await refused(
      ['verify', missing('a'), missing('b')],
      /^error: verify: unexpected argument ".*b" \(see rapidfit-export verify --help\)$/,
    );
    await refused(['bridge', 'doctor', 'now'], /^error: bridge doctor: unexpected argument "now"/);
  });

  it('with --json, the refusal is also a JSON error on stdout', async () => {
    const run = await runCli(['verify', missing('bundle'), '--opset', '3', '--json']);
    expect(run.exitCode).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      exitCode: 2,
      error: { message: 'verify: --opset is not an option of verify (see rapidfit-export verify --help)' },
    });
  });

  it('refuses an unknown command, and an unknown bridge command', async () => {
    await refused(
      ['frobnicate', missing('bundle')],
      /^error: unknown command "frobnicate", and no model directory of that name \(commands: export, inspect, quantize, verify, report, predict, compare, bridge doctor, bridge key; see rapidfit-export --help\)$/,
    );
    await refused(
      ['bridge', 'docter'],
      /^error: bridge: unknown command "docter" \(bridge commands: doctor, key; see rapidfit-export --help\)$/,
    );
    await refused(['bridge'], /^error: bridge: no command given/);
  });

  it.each([
    [
      'export',
      ['export'],
      [
        '--out',
        '--opset',
        '--gate',
        '--gates-file',
        '--samples',
        '--no-latency',
        '--weight-type',
        '--python',
        '--verbose',
        '--bridge-timeout',
        '--json',
        '--no-progress',
        '--batch-size',
        '--gate-on',
      ],
      ['--tokenizer', '--variant', '--file'],
    ],
    [
      'inspect',
      ['inspect'],
      ['--task-name', '--python', '--verbose', '--bridge-timeout', '--json'],
      ['--opset', '--out', '--junit', '--weight-type'],
    ],
    [
      'quantize',
      ['quantize'],
      [
        '--out',
        '--int8',
        '--samples',
        '--tokenizer',
        '--int8-budget',
        '--weight-type',
        '--per-channel',
        '--external-data',
        '--json',
      ],
      ['--opset', '--python', '--bridge-timeout', '--gate', '--junit'],
    ],
    [
      'verify',
      ['verify'],
      ['--junit', '--json', '--no-progress'],
      ['--opset', '--python', '--verbose', '--bridge-timeout', '--weight-type', '--out'],
    ],
    [
      'predict',
      ['predict'],
      ['--file', '--tasks', '--variant', '--batch-size', '--json'],
      ['--opset', '--python', '--junit', '--out'],
    ],
    ['bridge doctor', ['bridge', 'doctor'], ['--python', '--verbose', '--json'], ['--opset', '--junit', '--task-name']],
    [
      'compare',
      ['compare'],
      ['--samples', '--tasks', '--variant', '--min-agreement', '--max-accuracy-drop', '--md', '--junit', '--json'],
      ['--opset', '--python', '--bridge-timeout', '--out', '--gate'],
    ],
    ['bridge key', ['bridge', 'key'], ['--python', '--json'], ['--verbose', '--bridge-timeout', '--junit']],
  ])('%s --help lists its own options only', async (command, words, own, others) => {
    const run = await runCli([...words, '--help']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^(Usage: )?rapidfit-export ${command} `));
    const listed = listedOptions(run.stdout);
    for (const option of [...own, '--help']) expect(listed).toContain(option);
    for (const option of others) expect(listed).not.toContain(option);
    // what the help lists, the command takes
    const probe = await runCli([
      ...words,
      ...listed.filter((option) => option !== '--help').map((option) => `${option}=x`),
    ]);
    expect(probe.stderr).not.toMatch(/is not an option of/);
  });

  it('--bridge-timeout: its help states the bridge default, a bad value exits 2 before the bridge starts', async () => {
    const help = (await runCli(['inspect', '--help'])).stdout;
    expect(help.slice(help.indexOf('--bridge-timeout'))).toMatch(
      new RegExp(`^--bridge-timeout <seconds>[^]*?\\(default ${DEFAULT_BRIDGE_TIMEOUT_SECONDS}\\)$`, 'm'),
    );
    await refused(
      ['inspect', missing('model'), '--bridge-timeout=-1'],
      /^error: --bridge-timeout: the bridge timeout must be 0 \(none\) or more seconds$/,
    );
    await refused(
      [missing('model'), '--bridge-timeout', 'soon'],
      /^error: --bridge-timeout needs a number, got "soon"$/,
    );
  });

  it('-h is --help, and `rapidfit-export <model_dir> --help` is the export help', async () => {
    const [short, implicit, explicit] = await Promise.all([
      runCli(['verify', '-h']),
      runCli([missing('model'), '--help']),
      runCli(['export', '--help']),
    ]);
    expect(short.stdout).toMatch(/^Usage: rapidfit-export verify <bundle>/);
    expect(implicit.stdout).toBe(explicit.stdout);
  });

  it('the top-level help lists every command on one line and points to per-command help', async () => {
    const run = await runCli(['--help']);
    expect(run.exitCode).toBe(0);
    for (const usage of [
      '[export] <model_dir>',
      'inspect <file.onnx>',
      'quantize <in.onnx>',
      'verify <bundle>',
      'predict <bundle>',
      'compare <old-bundle> <new-bundle>',
      'bridge doctor',
      'bridge key',
    ]) {
      expect(run.stdout.split('\n').filter((line) => line.includes(`rapidfit-export ${usage}`))).toHaveLength(1);
    }
    expect(run.stdout).toMatch(/rapidfit-export <command> --help/);
    expect(listedOptions(run.stdout)).toEqual(['--help', '--version']);
    expect((await runCli(['-v'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("the README's option tables are the commands' own", async () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### Options of `export`'), readme.indexOf('### What a run does'));
    const documented = [...table.matchAll(/^\| `(?:-\w, )?(--[\w-]+)/gm)].map((match) => match[1]!);
    const listed = async (words: string[]) =>
      listedOptions((await runCli([...words, '--help'])).stdout).filter((option) => option !== '--help');
    expect(documented.sort()).toEqual((await listed(['export'])).sort());
    // the "its options" column of the usage section's command table
    for (const command of ['inspect', 'quantize', 'verify', 'report', 'compare', 'bridge doctor', 'bridge key']) {
      const row = new RegExp(`^\\| \`${command}\` \\| (.*) \\|$`, 'm').exec(readme)?.[1] ?? '';
      const options = [...row.matchAll(/`(-[\w-]+)`/g)].map((match) => (match[1] === '-o' ? '--out' : match[1]!));
      expect(options.sort(), command).toEqual((await listed(command.split(' '))).sort());
    }
  });
});
