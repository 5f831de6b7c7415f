// The code-shape limits of issue 24, measured with the TypeScript compiler API: no function in src/ over
// MAX_FUNCTION_LINES lines, no file over MAX_FILE_LINES. `node scripts/code-shape.mjs` prints the longest
// functions and files and exits 1 over a limit; test/unit/code-shape.test.ts runs the same checks.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const MAX_FUNCTION_LINES = 80;
export const MAX_FILE_LINES = 300;
const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** @returns {string[]} every .ts file below `dir` */
export function sourceFiles(dir = SRC) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** @param {ts.Node} node */
function functionName(node, source) {
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)))
    return parent.name.getText(source);
  return '(anonymous)';
}

/**
 * Every function-like node of a file with its length in lines (from its first to its last line).
 * @returns {Array<{ file: string, name: string, line: number, lines: number }>}
 */
export function functionLengths(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({
        file: relative(ROOT, file),
        name: functionName(node, source),
        line: start + 1,
        lines: end - start + 1,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** @returns {Array<{ file: string, lines: number }>} */
export function fileLengths(files = sourceFiles()) {
  return files.map((file) => ({
    file: relative(ROOT, file),
    lines: readFileSync(file, 'utf8').split('\n').length - 1,
  }));
}

if (process.argv[1] === import.meta.filename) {
  const files = sourceFiles();
  const functions = files.flatMap(functionLengths).sort((a, b) => b.lines - a.lines);
  const lengths = fileLengths(files).sort((a, b) => b.lines - a.lines);
  console.log(`longest functions (limit ${MAX_FUNCTION_LINES} lines):`);
  for (const f of functions.slice(0, 10))
    console.log(`  ${String(f.lines).padStart(4)}  ${f.name}  ${f.file}:${f.line}`);
  console.log(`longest files (limit ${MAX_FILE_LINES} lines):`);
  for (const f of lengths.slice(0, 10)) console.log(`  ${String(f.lines).padStart(4)}  ${f.file}`);
  const over =
    functions.filter((f) => f.lines > MAX_FUNCTION_LINES).length +
    lengths.filter((f) => f.lines > MAX_FILE_LINES).length;
  if (over) {
    console.log(`${over} over a limit`);
    process.exitCode = 1;
  }
}
