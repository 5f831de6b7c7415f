import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { COMPARE_OPTIONS } from '../options/compare.js';
import { defineCommand, print } from './command.js';

/** --md and --junit go into existing directories: checked before anything runs, so a run never ends half-written. */
function outputFile(option: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const file = resolve(path);
  const parent = dirname(file);
  if (!existsSync(parent) || !statSync(parent).isDirectory())
    throw new InputError(`the directory of --${option} does not exist`, { file: parent });
  return file;
}

/** `rapidfit-export compare <old-bundle> <new-bundle>`: the release gate (no Python). */
export const compareCommand = defineCommand({
  name: 'compare',
  usage: '<old-bundle> <new-bundle>',
  summary: 'compare two releases of a bundle on the same texts: the release gate (no Python)',
  description: `Run two bundles (the previous release and the new one) in onnxruntime-node on the same texts: the
texts stored in both bundles' verification.json and --samples. Per task and variant (each one both
bundles have): agreement of the predicted labels with its 95% interval and the texts that changed,
accuracy of each release with gold labels, logit shift, size and latency; labels are matched by name.
Exit 3 when a gate fails (--min-agreement, --max-accuracy-drop), 2 on bad input (not a bundle, a
bundle that does not match its manifest, no common task, a --variant one bundle lacks).`,
  options: COMPARE_OPTIONS,
  maxPositionals: 2,
  required: {
    missing: 'compare needs two bundle directories: rapidfit-export compare ./v1-onnx ./v2-onnx',
    hint: 'the previous release first, the new one second',
  },
  async run({ positionals: [oldDir = '', newDir], options }) {
    if (newDir === undefined)
      throw new InputError('compare needs two bundle directories (the old release, then the new one), got one');
    const md = outputFile('md', options.md);
    const junit = outputFile('junit', options.junit);
    const html = outputFile('html', options.html);
    const [{ compareReleases }, { renderCompareMarkdown, renderCompareText }, { appendStepSummary, renderJunit }] =
      await Promise.all([
        import('../compare/compare.js'),
        import('../compare/render.js'),
        import('../verify/ci-output.js'),
      ]);
    const result = await compareReleases(oldDir, newDir, options, (line) => {
      if (!options.json) process.stderr.write(`${line}\n`);
    });
    const markdown = renderCompareMarkdown(result);
    if (md) await writeFile(md, markdown);
    if (html) await writeFile(html, (await import('../compare/render-html.js')).renderCompareHtml(result));
    if (junit) {
      const tasks = result.comparisons.map((c) => ({ task: c.task, gates: c.gates }));
      await writeFile(junit, renderJunit(tasks, 'rapidfit-export compare'));
    }
    await appendStepSummary(markdown);
    if (result.passed || !options.json) print(options.json, { ok: true, ...result }, renderCompareText(result));
    if (!result.passed) {
      const { releaseGateError } = await import('../compare/gates.js');
      throw releaseGateError(result.comparisons, resolve(newDir), result);
    }
  },
});
