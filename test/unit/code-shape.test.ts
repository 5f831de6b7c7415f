import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without types (scripts/ is not part of the build)
import * as shape from '../../scripts/code-shape.mjs';
import { PACKAGE_ROOT } from '../../src/paths.js';

interface FunctionLength {
  file: string;
  name: string;
  line: number;
  lines: number;
}
const { MAX_FUNCTION_LINES, MAX_FILE_LINES, sourceFiles, functionLengths, fileLengths } = shape as {
  MAX_FUNCTION_LINES: number;
  MAX_FILE_LINES: number;
  sourceFiles: () => string[];
  functionLengths: (file: string) => FunctionLength[];
  fileLengths: (files?: string[]) => Array<{ file: string; lines: number }>;
};

const SRC = join(PACKAGE_ROOT, 'src');

/** The src/ files a file imports (relative imports only), as paths relative to src/ without extension. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => relative(SRC, resolve(dirname(file), specifier)).replace(/\.js$/, ''));
}

/** Where each layer may not point: `from` (a src/ folder) never imports anything below `to`. */
const BACKWARD_ARROWS = [
  { from: 'api', to: 'commands' },
  { from: 'pipeline', to: 'commands' },
  { from: 'quantize', to: 'verify' },
  { from: 'quantize', to: 'pipeline' },
  { from: 'commands', to: 'pipeline' }, // commands use src/pipeline.ts, never its steps
  { from: 'onnx', to: 'verify' },
  { from: 'report', to: 'commands' },
] as const;

function backwardImports(files: Array<{ file: string; imports: string[] }>): string[] {
  return files.flatMap(({ file, imports }) =>
    BACKWARD_ARROWS.flatMap(({ from, to }) =>
      file.startsWith(`${from}/`)
        ? imports.filter((target) => target.startsWith(`${to}/`)).map((target) => `${file} -> ${target}`)
        : [],
    ),
  );
}

describe('code shape (issue 24)', () => {
  const files = sourceFiles();

  it(`has no function in src/ over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files
      .flatMap(functionLengths)
      .filter((f) => f.lines > MAX_FUNCTION_LINES)
      .map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`);
    expect(long).toEqual([]);
  });

  it(`has no file in src/ over ${MAX_FILE_LINES} lines`, () => {
    expect(fileLengths(files).filter((f) => f.lines > MAX_FILE_LINES)).toEqual([]);
  });

  it('measures what it claims: a known function and file length', () => {
    const fixture = join(PACKAGE_ROOT, 'src', 'paths.ts');
    const text = readFileSync(fixture, 'utf8');
    expect(fileLengths([fixture])[0]!.lines).toBe(text.split('\n').length - 1);
    expect(functionLengths(join(PACKAGE_ROOT, 'src', 'errors.ts')).length).toBeGreaterThan(0);
  });

  it('has no import that points backwards between layers', () => {
    const graph = files.map((file) => ({ file: relative(SRC, file), imports: importsOf(file) }));
    expect(backwardImports(graph)).toEqual([]);
  });

  it('the README is a manual: at most 450 lines, with a table of contents that links every section', () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length - 1).toBeLessThanOrEqual(450);
    const toc = readme.slice(readme.indexOf('## Contents'), readme.indexOf('\n## ', readme.indexOf('## Contents') + 3));
    const anchor = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\w\s-]/g, '')
        .replace(/\s/g, '-');
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]!).filter((h) => h !== 'Contents');
    for (const heading of headings) expect(toc, heading).toContain(`(#${anchor(heading)})`);
  });

  it('the backward-arrow check sees a backward import', () => {
    const planted = [{ file: 'api/x.ts', imports: ['commands/quantize'] }];
    expect(backwardImports(planted)).toEqual(['api/x.ts -> commands/quantize']);
    expect(importsOf(join(SRC, 'api', 'export-model.ts'))).toContain('pipeline');
  });
});
