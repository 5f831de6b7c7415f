import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { InputError } from '../errors.js';
import { REPORT_OPTIONS } from '../options/report.js';
import { defineCommand, print } from './command.js';

/** A bundle's files are checksummed in manifest.json: a re-rendered report inside it would fail `verify`. */
function outsideBundle(bundle: string, file: string): string {
  const target = resolve(file);
  const inside = relative(bundle, target);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside)))
    throw new InputError(
      "is inside the bundle: a file there that is not the manifest's would fail `verify`; write it elsewhere",
      { file: target },
    );
  return target;
}

function write(file: string, content: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  } catch (error) {
    throw new InputError(`cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file });
  }
}

/** `rapidfit-export report <bundle>`: the Markdown and HTML reports again, from the bundle's JSON. */
export const reportCommand = defineCommand({
  name: 'report',
  usage: '<bundle>',
  summary: "re-render a bundle's parity reports (Markdown, HTML) from its JSON (no Python)",
  description: `Render parity-report.md and parity-report.html again from the bundle's parity-report.json (and
verification.json, for bundles older than the report's split counts), with this version's layout;
bundles from older versions are read too (what they lack is left out). --md and --html write the
files (outside the bundle: its files are checksummed); with neither, the Markdown goes to stdout.`,
  options: REPORT_OPTIONS,
  maxPositionals: 1,
  required: {
    missing: 'report needs a bundle directory',
    hint: 'rapidfit-export report ./my_model-onnx --html report.html',
  },
  async run({ positionals: [target = ''], options: values }) {
    const dir = resolve(target);
    const { loadBundleReport } = await import('../report/load.js');
    const { renderMarkdown } = await import('../report/markdown.js');
    const { report, context } = loadBundleReport(dir);
    const targets = {
      ...(values.md ? { md: outsideBundle(dir, values.md) } : {}),
      ...(values.html ? { html: outsideBundle(dir, values.html) } : {}),
    };
    const markdown = renderMarkdown(report, context);
    if (targets.md) write(targets.md, markdown);
    if (targets.html) {
      const { renderHtml } = await import('../report/html.js');
      write(targets.html, renderHtml(report, context));
    }
    const written = Object.values(targets);
    if (written.length === 0 && !values.json) {
      process.stdout.write(markdown);
      return;
    }
    const lines = written.map((file) => `wrote ${file}`);
    const result = { ok: true, passed: report.passed, ...targets, ...(written.length === 0 ? { markdown } : {}) };
    print(values.json, result, lines.join('\n'));
  },
});
