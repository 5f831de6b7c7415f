import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExitCode } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { scratchDir } from '../helpers/cli.js';

// The GitHub Action (action.yml) and its workflow examples, linted by actionlint (a pinned Go module that
// .ci/run installs; absent, these tests fail rather than skip) and checked against the action's real
// inputs and outputs.

const EXAMPLES = join(PACKAGE_ROOT, 'examples', 'github-actions');
const ACTION_FILE = join(PACKAGE_ROOT, 'action.yml');
/** How the examples name the action; a wrapper workflow swaps it for the local `./`. */
const ACTION_REF = /^[\w.-]+\/rapidfit-export@v\d+$/;
const ACTION_USES = /uses: [\w.-]+\/rapidfit-export@v\d+/g;

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Action {
  runs: { using: string; steps: Step[] };
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
}

const action = parse(readFileSync(ACTION_FILE, 'utf8')) as Action;
const examples = readdirSync(EXAMPLES).filter((name) => name.endsWith('.yml'));

/** A tool on PATH, or (goBin) in Go's bin directory. */
async function findTool(name: string, goBin: boolean): Promise<string> {
  const onPath = await execa('sh', ['-c', `command -v ${name}`], { reject: false });
  if (onPath.exitCode === 0) return onPath.stdout.trim();
  // where `go install` puts it when Go's bin directory is not on PATH
  const file = join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin', name);
  if (goBin && existsSync(file)) return file;
  throw new Error(`${name} is not installed: .ci/run installs it (see its "== ${name}" step)`);
}

function exampleSteps(file: string): Step[] {
  const workflow = parse(readFileSync(join(EXAMPLES, file), 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
  return Object.values(workflow.jobs).flatMap((job) => job.steps);
}

/** A repository holding action.yml and the example as a workflow that uses the action as `./`. */
function wrapperRepo(example: string, edit: (text: string) => string = (text) => text): string {
  const root = scratchDir('rfe-workflows-');
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
  mkdirSync(join(root, '.git')); // actionlint finds the project by its .git
  copyFileSync(ACTION_FILE, join(root, 'action.yml'));
  const text = readFileSync(join(EXAMPLES, example), 'utf8').replace(
    /uses: [\w.-]+\/rapidfit-export@v\d+/g,
    'uses: ./',
  );
  writeFileSync(join(root, '.github', 'workflows', example), edit(text));
  return root;
}

describe('GitHub Action and workflow examples', () => {
  let actionlint = '';
  beforeAll(async () => {
    actionlint = await findTool('actionlint', true);
  });

  it('has the two examples, and actionlint passes on each as written', async () => {
    expect(examples.sort()).toEqual(['model-release.yml', 'pull-request.yml']);
    const run = await execa(actionlint, ['-no-color', ...examples.map((name) => join(EXAMPLES, name))], {
      reject: false,
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  });

  it.each(examples)('%s passes actionlint against the real action.yml (local `uses: ./`)', async (example) => {
    const root = wrapperRepo(example);
    const run = await execa(actionlint, ['-no-color'], { cwd: root, reject: false });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  });

  it('the README\'s minimal workflow ("In CI") is under 25 lines and passes actionlint against action.yml', async () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## In CI\n'));
    const workflow = /```yaml\n([^]*?)```/.exec(section)![1]!;
    expect(workflow.trimEnd().split('\n').length).toBeLessThan(25);
    const root = wrapperRepo('model-release.yml', () => workflow.replace(ACTION_USES, 'uses: ./'));
    const run = await execa(actionlint, ['-no-color'], { cwd: root, reject: false });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  });

  it('actionlint catches an input or output the action does not have (the check above can fail)', async () => {
    const root = wrapperRepo('model-release.yml', (text) =>
      text.replace('model-dir: model', 'model-directory: model').replace('outputs.bundle }}', 'outputs.bundle-dir }}'),
    );
    const run = await execa(actionlint, ['-no-color'], { cwd: root, reject: false });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/input "model-directory" is not defined in action "rapidfit-export"/);
    expect(run.stdout).toMatch(/property "bundle-dir" is not defined/);
  });

  it.each(examples)('%s uses only inputs and outputs action.yml declares, and every required input', (example) => {
    const steps = exampleSteps(example);
    const uses = steps.filter((step) => ACTION_REF.test(step.uses ?? ''));
    expect(uses.length).toBeGreaterThan(0);
    const inputs = Object.keys(action.inputs);
    const required = inputs.filter((name) => action.inputs[name]!.required);
    const text = readFileSync(join(EXAMPLES, example), 'utf8');
    for (const step of uses) {
      expect(step.id, 'the action step has an id, so its outputs can be read').toBeTruthy();
      for (const key of Object.keys(step.with ?? {})) expect(inputs).toContain(key);
      for (const key of required) expect(Object.keys(step.with ?? {})).toContain(key);
      const read = [...text.matchAll(new RegExp(`steps\\.${step.id!}\\.outputs\\.([\\w-]+)`, 'g'))].map((m) => m[1]);
      expect(read.length).toBeGreaterThan(0);
      for (const output of read) expect(Object.keys(action.outputs)).toContain(output);
    }
  });

  it('action.yml: a composite action with pinned setup/cache/upload actions, the CUDA skip and the exit mapping', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(['model-dir', 'out', 'samples', 'args']));
    expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(['bundle', 'verified', 'report']));
    const steps = action.runs.steps;
    const used = steps.flatMap((step) => (step.uses ? [step.uses] : []));
    for (const name of ['setup-node', 'setup-python', 'cache/restore', 'cache/save', 'upload-artifact']) {
      expect(
        used.some((ref) => new RegExp(`^actions/${name}@v\\d+$`).test(ref)),
        name,
      ).toBe(true);
    }
    const ids = new Set(steps.flatMap((step) => (step.id ? [step.id] : [])));
    for (const [name, output] of Object.entries(action.outputs)) {
      const id = /steps\.([\w-]+)\.outputs/.exec(output.value)?.[1];
      expect(id && ids.has(id), `output ${name} reads a step of the action`).toBe(true);
    }
    const install = steps.find((step) => step.id === 'install')!;
    expect(install.env?.ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    const runs = steps.map((step) => step.run ?? '').join('\n');
    expect(runs).toMatch(/bridge key --json/);
    expect(runs).toMatch(/bridge doctor/);
    expect(runs).toMatch(/--junit/);
    expect(runs).toMatch(/RAPIDFIT_EXPORT_CACHE=/);
    expect(runs).toMatch(/scripts\/ci-exit\.mjs/);
  });

  it('the exit mapping says what every exit code of src/errors.ts means', async () => {
    const { exitCodeError, EXIT_MEANINGS } = (await import(join(PACKAGE_ROOT, 'scripts', 'ci-exit.mjs'))) as {
      exitCodeError: (step: string, code: number) => string | undefined;
      EXIT_MEANINGS: Record<number, string>;
    };
    for (const code of Object.values(ExitCode).filter((code) => code !== 0)) expect(EXIT_MEANINGS[code]).toBeTruthy();
    expect(exitCodeError('export', 0)).toBeUndefined();
    expect(exitCodeError('export', 3)).toMatch(
      /^::error title=rapidfit-export export failed \(exit 3\)::a parity gate failed/,
    );
    expect(exitCodeError('compare', 2)).toMatch(/\(exit 2\)::bad input/);
    expect(exitCodeError('export', 4)).toMatch(/Python bridge or environment/);
  });

  it("the action's shell steps pass shellcheck", async () => {
    const shellcheck = await findTool('shellcheck', false);
    const root = scratchDir('rfe-shellcheck-');
    const files = action.runs.steps.flatMap((step, index) => {
      if (!step.run) return [];
      const file = join(root, `step-${index}.sh`);
      // expressions are substituted before the shell runs: a plain word stands in for them
      writeFileSync(file, `#!/bin/bash\n${step.run.replace(/\$\{\{[^}]*\}\}/g, 'EXPR')}`);
      return [file];
    });
    expect(files.length).toBeGreaterThan(4);
    const run = await execa(shellcheck, ['-S', 'warning', ...files], { reject: false });
    expect(run.exitCode, run.stdout).toBe(0);
  });
});
