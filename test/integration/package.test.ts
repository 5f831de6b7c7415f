import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/models.mjs';
import { ONNX_PROTO_FILE } from '../../src/onnx/proto.js';
import { BRIDGE_SOURCE, LOCK_FILE, PACKAGE_ROOT } from '../../src/paths.js';
import { runCli, scratchDir } from '../helpers/cli.js';

/**
 * The published package as a user gets it: `npm pack` (of the built dist/), the tarball installed
 * into a fresh npm project, and the commands run from that project's node_modules/.bin. The install
 * is done as README "Installing from npm" says (allowScripts denial + ONNXRUNTIME_NODE_INSTALL=skip).
 */

/** The environment of a user's shell: without the npm_* variables `npm test` sets for its scripts. */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^npm_/i.test(key)) env[key] = value;
  }
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string }>;
}

describe('the npm package, installed from its tarball', () => {
  const root = scratchDir('rfe-package-');
  const packDir = join(root, 'pack');
  const app = join(root, 'app');
  const bundle = join(root, 'bundle');
  const bin = join(app, 'node_modules', '.bin', 'rapidfit-export');
  let pack: PackResult;
  let packStderr = '';
  let installStderr = '';

  const installed = (args: string[]) =>
    execa(bin, args, { cwd: app, env: userEnv(), extendEnv: false, reject: false, timeout: 5 * 60_000 });

  beforeAll(async () => {
    mkdirSync(packDir);
    mkdirSync(app);
    const packAndInstall = async () => {
      // dist/ is built by `npm test` (and `npm run build`); --ignore-scripts skips `prepare`'s rebuild
      const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
        cwd: PACKAGE_ROOT,
        env: userEnv(),
        extendEnv: false,
      });
      packStderr = packed.stderr;
      pack = (JSON.parse(packed.stdout) as PackResult[])[0]!;
      writeFileSync(
        join(app, 'package.json'),
        `${JSON.stringify({ name: 'rfe-package-test', private: true }, null, 2)}\n`,
      );
      // README "Installing from npm": deny the two dependency install scripts (npm 11), then install
      await execa(
        'npm',
        ['pkg', 'set', 'allowScripts.onnxruntime-node=false', 'allowScripts.protobufjs=false', '--json'],
        {
          cwd: app,
          env: userEnv(),
          extendEnv: false,
        },
      );
      const install = await execa(
        'npm',
        ['install', join(packDir, pack.filename), '--no-audit', '--no-fund', '--prefer-offline'],
        {
          cwd: app,
          env: userEnv(),
          extendEnv: false,
          timeout: 5 * 60_000,
        },
      );
      installStderr = install.stderr;
    };
    const exportBundle = async () => {
      const run = await runCli([
        fixturePath('tiny-mean-gelu'),
        '-o',
        bundle,
        '--samples-limit',
        '16',
        '--int8',
        'dynamic',
        '--no-progress',
      ]);
      if (run.exitCode !== 0) throw new Error(`export failed (${run.exitCode}): ${run.stderr}`);
    };
    await Promise.all([packAndInstall(), exportBundle()]);
  }, 6 * 60_000);

  it('ships dist, the .proto the ONNX reader loads and the bridge (lock, pyproject, sources), nothing of tests', () => {
    const paths = pack.files.map((file) => file.path);
    for (const needed of [
      relative(PACKAGE_ROOT, ONNX_PROTO_FILE),
      relative(PACKAGE_ROOT, LOCK_FILE),
      'python-bridge/pyproject.toml',
      'dist/cli.js',
    ]) {
      expect(paths).toContain(needed);
    }
    expect(paths).toContain(`${relative(PACKAGE_ROOT, BRIDGE_SOURCE)}/rapidfit_bridge/__main__.py`);
    expect(paths.filter((path) => /(^|\/)(tests?|fixtures)\/|__pycache__|\.pyc$|\.map$|\.test\./.test(path))).toEqual(
      [],
    );
    expect(
      paths.filter(
        (path) => !/^(dist\/|python-bridge\/|src\/onnx\/onnx-ml\.proto$|README\.md$|package\.json$)/.test(path),
      ),
    ).toEqual([]);
    expect(pack.size).toBeLessThan(1_000_000);
    // the library entry point and its types; test infrastructure (fixtures/models.mjs) is not shipped
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts']));
    expect(paths.filter((path) => /fixtures/.test(path))).toEqual([]);
  });

  it('packs and installs without npm warnings (no unknown config, no unreviewed dependency install scripts)', () => {
    const lines = `${packStderr}\n${installStderr}`.split('\n');
    expect(
      lines.filter((line) => /^npm (warn|error)/.test(line) && !line.startsWith('npm warn install-scripts')),
    ).toEqual([]);
    // npm 11 lists install scripts not covered by allowScripts: onnxruntime-node's and protobufjs's are
    // denied; what may remain is the tarball's own `prepare` (the build), which npm lists for a local
    // tarball (not for a registry install) but never runs for one: dist/ is in the tarball.
    const listed = lines.filter((line) => /^npm warn install-scripts {3}\S/.test(line));
    expect(listed.filter((line) => !/ rapidfit-export@[\d.]+ \(prepare: npm run build\)$/.test(line))).toEqual([]);
    expect(realpathSync(bin)).toBe(join(realpathSync(app), 'node_modules', 'rapidfit-export', 'dist', 'cli.js'));
    // onnxruntime-node's postinstall (the CUDA download) did not run; its CPU binaries are in the package
    expect(
      existsSync(
        join(
          app,
          'node_modules',
          'onnxruntime-node',
          'bin',
          'napi-v6',
          'linux',
          'x64',
          'libonnxruntime_providers_cuda.so',
        ),
      ),
    ).toBe(false);
  });

  it('--help', async () => {
    const run = await installed(['--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/rapidfit-export inspect <file\.onnx>/);
    expect(run.stdout).toMatch(/rapidfit-export verify <bundle>/);
  });

  it('inspect <file.onnx> reads the graph with the shipped .proto', async () => {
    const run = await installed(['inspect', join(bundle, 'sentiment.onnx')]);
    expect(run.stderr).not.toMatch(/ENOENT|protobuf decode failed/);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(
      /inputs\s+input_ids: int64\[batch, sequence\]; attention_mask: int64\[batch, sequence\]/,
    );
    expect(run.stdout).toMatch(/outputs\s+logits: float\[batch, 3\]/);
    expect(run.stdout).toMatch(/rapidfit\.task=sentiment/);
  });

  it('quantize <file.onnx> writes a smaller INT8 graph', async () => {
    const out = join(root, 'sentiment_q.onnx');
    const run = await installed(['quantize', join(bundle, 'sentiment.onnx'), '-o', out]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/\d+ MatMul.* quantized \(\d+ weights; MatMuls: \d+ dynamic\)/);
    expect(statSync(out).size).toBeLessThan(statSync(join(bundle, 'sentiment.onnx')).size / 2);
  });

  it('verify <bundle> re-checks the manifest and the parity of every graph', async () => {
    const run = await installed(['verify', bundle]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/\d+ files match the manifest/);
    expect(run.stdout).toMatch(/spam int8: .* pass/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('verified');
  });

  it('bridge doctor starts the bridge from the installed python-bridge/', async () => {
    const run = await installed(['bridge', 'doctor', '--no-progress']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/lock\s+\S*node_modules\/rapidfit-export\/python-bridge\/requirements\.lock/);
    expect(run.stdout).toMatch(/transformers\s+\d+\.\d+/);
    expect(run.stdout).toMatch(/rapidfit\s+\d+\.\d+/);
    expect(
      existsSync(
        join(app, 'node_modules', 'rapidfit-export', 'python-bridge', 'src', 'rapidfit_bridge', '__pycache__'),
      ),
    ).toBe(false);
  });

  it('the library: `import { loadBundle, exportModel, ... } from "rapidfit-export"` runs from the installed package and prints nothing', async () => {
    const script = join(app, 'use-library.mjs');
    writeFileSync(
      script,
      `import { exportModel, loadBundle, quantizeModel, verifyBundle, InputError, ToolError } from 'rapidfit-export';
const [bundleDir, model, out] = process.argv.slice(2);
const bundle = await loadBundle(bundleDir, { variant: 'int8' });
const predictions = await bundle.predict(['I love this phone', 'The parliament passed the budget'], { tasks: ['sentiment', 'spam'] });
const graphs = bundle.openGraphs().map((file) => file.split('/').at(-1));
await bundle.close();
const verification = await verifyBundle(bundleDir);
const quantized = await quantizeModel(bundleDir + '/sentiment.onnx', { out: out + '-q.onnx' });
const exported = await exportModel(model, { outDir: out, tasks: ['spam', 'topic'], int8: 'dynamic', sampleLimit: 8, latency: false });
let error;
try {
  await loadBundle(out + '-missing');
} catch (caught) {
  error = { name: caught.name, exitCode: caught.exitCode, file: caught.details.file, tool: caught instanceof ToolError, input: caught instanceof InputError };
}
process.stdout.write(JSON.stringify({ predictions, graphs, passed: verification.passed, quantizedBytes: quantized.bytes, exported: { ok: exported.ok, tasks: exported.tasks }, error }));
`,
    );
    const run = await execa('node', [script, bundle, fixturePath('tiny-mean-gelu'), join(root, 'library-bundle')], {
      cwd: app,
      env: userEnv(),
      extendEnv: false,
      reject: false,
      timeout: 5 * 60_000,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result.predictions).toHaveLength(2);
    expect(Object.keys(result.predictions[0])).toEqual(['sentiment', 'spam']);
    expect(result.graphs).toEqual(['multihead_int8.onnx']);
    expect(result.passed).toBe(true);
    expect(result.quantizedBytes).toBeLessThan(statSync(join(bundle, 'sentiment.onnx')).size / 2);
    expect(result.exported).toEqual({ ok: true, tasks: ['spam', 'topic'] });
    expect(readdirSync(join(root, 'library-bundle'))).toEqual(
      expect.arrayContaining(['multihead.onnx', 'multihead_int8.onnx', 'manifest.json']),
    );
    expect(result.error).toEqual({
      name: 'InputError',
      exitCode: 2,
      file: join(root, 'library-bundle-missing'),
      tool: true,
      input: true,
    });
  });

  it("the library's types resolve from the package name (tsc, strict, NodeNext)", async () => {
    writeFileSync(
      join(app, 'typed.mts'),
      `import { loadBundle, verifyBundle, GateError, type LoadedBundle, type TextPredictions, type ExportModelOptions } from 'rapidfit-export';
export async function labels(dir: string, texts: string[]): Promise<string[]> {
  const bundle: LoadedBundle = await loadBundle(dir, { variant: 'int8' });
  const predictions: TextPredictions[] = await bundle.predict(texts, { tasks: ['sentiment'] });
  await bundle.close();
  return predictions.map((row) => row['sentiment']!.label);
}
export const options: ExportModelOptions = { outDir: 'out', int8: 'dynamic', gates: ['spam.int8.top1=0.95'] };
export const passed = async (dir: string): Promise<boolean> => (await verifyBundle(dir)).passed;
export const isGate = (error: unknown): boolean => error instanceof GateError && error.exitCode === 3;
// @ts-expect-error: batchSize is a number (this line fails to compile only if the types resolved)
export const wrong = (bundle: LoadedBundle) => bundle.predict([], { batchSize: 'many' });
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(PACKAGE_ROOT, 'node_modules', '@types')],
        },
        files: ['typed.mts'],
      }),
    );
    const run = await execa(join(PACKAGE_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], {
      cwd: app,
      reject: false,
    });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.exitCode).toBe(0);
  });

  it('predict <bundle> [text ...] labels texts in Node with the shipped tokenizer and INT8 graphs', async () => {
    const run = await installed(['predict', bundle, 'I love this phone', 'The parliament passed the budget', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { text: string; predictions: Record<string, { label: string; confidence: number }> },
      );
    expect(lines.map((line) => line.text)).toEqual(['I love this phone', 'The parliament passed the budget']);
    for (const line of lines) {
      expect(Object.keys(line.predictions).sort()).toEqual(['sentiment', 'spam', 'topic']);
      for (const prediction of Object.values(line.predictions)) {
        expect(prediction.label.length).toBeGreaterThan(0);
        expect(prediction.confidence).toBeGreaterThan(0);
        expect(prediction.confidence).toBeLessThanOrEqual(1);
      }
    }
  });
});
