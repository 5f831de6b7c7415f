import type { ParityReport } from '../config/report.js';
import type { RenderContext } from './facts.js';
import { figures, type Figure } from './html-charts.js';
import { banner, comparisonsTable, gatesTable, summaryTable, worstTable } from './html-sections.js';
import { textsLines } from './markdown.js';
import { escapeXml as esc } from './svg.js';

/** Colour is never the only cue: verdicts carry a word and a mark, charts patterns and labels. */
const CSS = `
:root { color-scheme: light; --pass: #1b7837; --fail: #b2182b; --ink: #111; --muted: #555; --rule: #ccc; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; margin: 0 auto; max-width: 1100px; padding: 16px 24px 40px; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
.banner { border: 3px solid; border-radius: 6px; padding: 10px 16px; margin: 0 0 16px; }
.banner.pass { border-color: var(--pass); background: #eef7f0; } .banner.fail { border-color: var(--fail); background: #fbeeee; border-style: double; border-width: 6px; }
.banner .verdict { font-size: 26px; font-weight: 700; margin: 0; }
.banner.pass .verdict { color: var(--pass); } .banner.fail .verdict { color: var(--fail); }
.banner p, .banner ul { margin: 4px 0; } .warning { color: #7a4b00; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; color: var(--muted); }
th, td { border: 1px solid var(--rule); padding: 3px 8px; text-align: right; vertical-align: top; }
th[scope="row"], td.text, thead th { text-align: left; } thead th { background: #f2f2f2; }
td:nth-child(2) { text-align: left; } #summary td { white-space: nowrap; } td.text { max-width: 360px; }
td.verdict { white-space: nowrap; text-align: left; } td.pass { color: var(--pass); font-weight: 600; } td.fail { color: var(--fail); font-weight: 700; text-decoration: underline; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 12px 24px; }
figure { margin: 0; break-inside: avoid; } figure h3 { font-size: 14px; margin: 8px 0 4px; }
figcaption { font-size: 12px; color: var(--muted); } svg { max-width: 100%; height: auto; }
footer { margin-top: 32px; font-size: 12px; color: var(--muted); }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .banner { background: none; } .figures { display: block; }
  h2, figure, tr { break-inside: avoid; } a { color: inherit; text-decoration: none; }
}
`;

function figureHtml(figure: Figure): string {
  return `<figure id="figure-${figure.id}">
<h3>${esc(figure.heading)}</h3>
${figure.svg}
<figcaption>${esc(figure.caption)}</figcaption>
</figure>`;
}

function textsHtml(report: ParityReport): string {
  return textsLines(report)
    .filter((line) => line.startsWith('Texts:'))
    .map((line) => `<p id="texts">${esc(line)}</p>`)
    .join('');
}

/**
 * parity-report.html: one self-contained page (inline CSS and SVG, no script, no URL), the same bytes for
 * the same report apart from `createdAt`.
 */
export function renderHtml(report: ParityReport, context: RenderContext = {}): string {
  const word = report.passed ? 'PASS' : 'FAIL';
  const model = report.model.dir.split(/[\\/]/).filter(Boolean).pop() ?? report.model.dir;
  const charts = figures(report);
  const body = [
    `<h1>Parity report: ${esc(model)}</h1>`,
    banner(report),
    textsHtml(report),
    '<h2 id="summary-heading">Agreement, error, size and speed</h2>',
    summaryTable(report),
    charts.length > 0 ? `<h2>Charts</h2>\n<div class="figures">\n${charts.map(figureHtml).join('\n')}\n</div>` : '',
    '<h2>Worst examples</h2>',
    worstTable(report, context),
    '<h2>Gates</h2>',
    gatesTable(report),
    '<h2>All comparisons</h2>',
    comparisonsTable(report),
    `<footer>Model <code>${esc(report.model.dir)}</code> (${esc(report.model.format)}); ${report.samples.count} texts (${esc(report.samples.source)}), seed ${report.samples.seed}, max_length ${report.samples.maxLength}; ${esc(report.tool.name)} ${esc(report.tool.version)}; created <time datetime="${esc(report.createdAt)}">${esc(report.createdAt)}</time>.</footer>`,
  ].filter(Boolean);
  return htmlPage(`Parity report: ${word} (${model})`, body);
}

/** A self-contained page with the reports' CSS: no script, no URL (`compare --html` uses it too). */
export function htmlPage(title: string, body: readonly string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
</body>
</html>
`;
}
