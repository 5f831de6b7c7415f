import { VARIANT_PLANS } from '../plan/variants.js';
import { htmlPage } from '../report/html.js';
import { escapeXml as esc } from '../report/svg.js';
import { formatNumber } from '../verify/gates.js';
import type { CompareResult, TaskVariantComparison } from './compare.js';
import { bytes, CHANGED_SHOWN, failures, headerLines, interval, labelLine, percent, title } from './render.js';

function verdict(result: CompareResult): string {
  const word = result.passed ? 'PASS' : 'FAIL';
  const detail = result.passed
    ? 'the new release predicts what the old one did, within the gates'
    : `failed: ${failures(result).join('; ')}`;
  return `<section class="banner ${result.passed ? 'pass' : 'fail'}" aria-label="verdict">
<p class="verdict">${result.passed ? '✓' : '✗'} ${word}</p>
<p>${esc(detail)}</p>
<ul>${headerLines(result)
    .map((line) => `<li>${esc(line)}</li>`)
    .join('')}</ul>
</section>`;
}

function summaryRow(c: TaskVariantComparison): string {
  const m = c.metrics;
  const accuracy = m.accuracy ? `${percent(m.accuracy.old)} → ${percent(m.accuracy.new)}` : 'no labels';
  const gates = c.gates
    .map((g) => `${g.passed ? '✓ pass' : '✗ FAIL'} ${esc(g.metric)} ${g.op} ${formatNumber(g.limit)}`)
    .join('<br>');
  return `<tr><th scope="row">${esc(c.task)}</th><td>${esc(VARIANT_PLANS[c.variant].title)}</td><td>${percent(m.agreement)}</td><td>${interval(m.agreementInterval)}</td><td>${m.changed.length}</td><td>${accuracy}</td><td>${formatNumber(m.shift.maxProbability)}</td><td>${bytes(c.size.old)} → ${bytes(c.size.new)}</td><td class="verdict ${c.passed ? 'pass' : 'fail'}">${gates}</td></tr>`;
}

function changedTable(c: TaskVariantComparison): string {
  const rows = c.metrics.changed
    .slice(0, CHANGED_SHOWN)
    .map(
      (t) =>
        `<tr><td class="text">${esc(t.text)}</td><td>${esc(t.old)} (${t.oldConfidence.toFixed(2)})</td><td>${esc(t.new)} (${t.newConfidence.toFixed(2)})</td><td>${esc(t.gold ?? '')}</td></tr>`,
    );
  const more = c.metrics.changed.length - rows.length;
  const labels = labelLine(c);
  return `<h3>${esc(title(c))}</h3>
${labels ? `<p>${esc(labels)}</p>` : ''}
<table><caption>Texts whose label changed${more > 0 ? ` (first ${rows.length}; ${more} more in --json)` : ''}</caption>
<thead><tr><th scope="col">text</th><th scope="col">old label (confidence)</th><th scope="col">new label (confidence)</th><th scope="col">gold</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

/** `compare --html`: the verdict, one row per task and variant, and the texts that changed, on one self-contained page. */
export function renderCompareHtml(result: CompareResult): string {
  const changed = result.comparisons.filter((c) => c.metrics.changed.length > 0);
  const latency = result.latency.map(
    (l) =>
      `<li>${esc(VARIANT_PLANS[l.variant].title)}: ${l.oldMsPerText.toFixed(3)} → ${l.newMsPerText.toFixed(3)} ms per text (×${l.ratio.toFixed(2)})</li>`,
  );
  return htmlPage(`Release comparison: ${result.passed ? 'PASS' : 'FAIL'}`, [
    '<h1>Release comparison</h1>',
    verdict(result),
    `<table id="summary"><caption>Agreement between the releases per task and variant</caption>
<thead><tr><th scope="col">task</th><th scope="col">variant</th><th scope="col">agreement</th><th scope="col">95% interval</th><th scope="col">changed</th><th scope="col">accuracy old → new</th><th scope="col">max probability shift</th><th scope="col">size</th><th scope="col">gates</th></tr></thead>
<tbody>${result.comparisons.map(summaryRow).join('\n')}</tbody></table>`,
    latency.length > 0 ? `<h2>Latency</h2><ul>${latency.join('')}</ul>` : '',
    changed.length > 0 ? `<h2>Changed texts</h2>\n${changed.map(changedTable).join('\n')}` : '',
  ]);
}
