/**
 * Hand-written SVG charts for the self-contained HTML parity report. Every chart is deterministic (same input, same
 * bytes) and readable without CSS or colour: marked/failed things also differ by pattern or shape, values are printed
 * as text where there is room, and non-finite values are skipped and printed as "n/a".
 */

type ChartText = { id: string; title: string; description: string };
type Width = { width?: number };
type Size = Width & { height?: number };
type AxisLabels = { xLabel: string; yLabel: string };
export type HistogramBin = { from: number; to: number; count: number; marked?: number };
export type HistogramOptions = ChartText & Size & AxisLabels & { bins: readonly HistogramBin[]; markedLabel?: string };
export type Bar = { label: string; value: number | null };
export type BarGroup = { label: string; bars: readonly Bar[] };
export interface BarChartOptions extends ChartText, Width {
  unit: string;
  groups: readonly BarGroup[];
  logScale?: boolean;
  reference?: { value: number; label: string };
}
export type ScatterPoint = { x: number; y: number; label: string; passed: boolean };
export interface ScatterPlotOptions extends ChartText, Size, AxisLabels {
  points: readonly ScatterPoint[];
  threshold?: { y: number; label: string };
  yDomain?: [number, number];
}
export interface HeatMapOptions extends ChartText, Width {
  rowLabel: string;
  columnLabel: string;
  rows: readonly string[];
  columns: readonly string[];
  cells: ReadonlyArray<ReadonlyArray<number>>;
}

type Attributes = Record<string, string | number | undefined>;
type Frame = { left: number; top: number; right: number; bottom: number };
type Box = { x: number; y: number; width: number; height: number };
type Tick = { position: number; text: string };
type SeriesStyle = { colour: string; fill: string; defs: string };

const INK = '#000';
const PALETTE = ['#1f4e79', '#b35806', '#1b7837', '#762a83', '#4d4d4d'] as const;
const FAIL_COLOUR = '#b2182b';
const RAMP_DARK = [8, 48, 107] as const;
const BAR_HEIGHT = 14;
const MIDDLE = { 'text-anchor': 'middle' } as const;
const END = { 'text-anchor': 'end' } as const;

export function escapeXml(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
  return text.replace(/[&<>"']/g, (character) => entities[character] ?? character);
}

/** A number for an attribute: at most 2 decimals, never NaN/Infinity (callers skip non-finite values first). */
function n(x: number): string {
  const rounded = Number.isFinite(x) ? Math.round(x * 100) / 100 : 0;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

function el(tag: string, attributes: Attributes, content?: string): string {
  const rendered = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? n(value) : escapeXml(value)}"`)
    .join('');
  return content === undefined ? `<${tag}${rendered}/>` : `<${tag}${rendered}>${content}</${tag}>`;
}

const label = (x: number, y: number, text: string, extra: Attributes = {}): string =>
  el('text', { x, y, fill: INK, ...extra }, escapeXml(text));
const tooltip = (text: string): string => el('title', {}, escapeXml(text));
const isNumber = (value: number | null | undefined): value is number => Number.isFinite(value);
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
/** Rough width of 11px system-ui text: enough to decide whether a label fits. */
const textWidth = (text: string): number => text.length * 6.2;

/** Compact value text: integers as they are, otherwise 3 significant digits (exponent form when tiny or huge). */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e6) return String(value);
  const rounded = Number(value.toPrecision(3));
  return abs >= 1e6 || abs < 1e-3 ? rounded.toExponential().replace('e+', 'e') : String(rounded);
}

const formatPercent = (fraction: number): string => `${formatValue(Number((fraction * 100).toPrecision(6)))}%`;

function checkId(id: string): void {
  if (!/^[A-Za-z][\w-]*$/.test(id))
    throw new Error(`Invalid chart id ${JSON.stringify(id)}: use a letter, then \\w or -`);
}

function chartSize(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 120) throw new Error(`Chart ${what} must be a finite number >= 120: ${value}`);
  return value;
}

function svgDocument(chart: ChartText, width: number, height: number, body: string): string {
  const { id } = chart;
  const root = { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${n(width)} ${n(height)}`, width, height };
  const accessibility = { role: 'img', 'aria-labelledby': `${id}-title ${id}-desc` };
  const font = { 'font-family': 'system-ui, sans-serif', 'font-size': 11, class: 'rfe-chart' };
  const heading = el('title', { id: `${id}-title` }, escapeXml(chart.title));
  const description = el('desc', { id: `${id}-desc` }, escapeXml(chart.description));
  return el('svg', { ...root, ...accessibility, ...font }, heading + description + body);
}

function noData(chart: ChartText, width: number, note = 'no data'): string {
  return svgDocument(chart, width, 60, label(width / 2, 34, note, { ...MIDDLE, class: 'rfe-no-data' }));
}

/** The smallest 1/2/5 x 10^k step that splits `span` into at most `intervals` parts. */
function niceStep(span: number, intervals: number): number {
  if (!(span > 0)) return 1;
  const raw = span / intervals;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((step) => step >= raw * (1 - 1e-9)) ?? 10 * magnitude;
}

function ticksBetween(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
    ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function axes(frame: Frame, xTicks: Tick[], yTicks: Tick[], xLabel: string, yLabel: string): string {
  const { left, top, right, bottom } = frame;
  const middle = (top + bottom) / 2;
  const corner = `M${n(left)} ${n(top)}V${n(bottom)}H${n(right)}`;
  const parts = [el('path', { class: 'rfe-axis', d: corner, fill: 'none', stroke: INK })];
  for (const { position: x, text } of xTicks)
    parts.push(
      el('line', { x1: x, x2: x, y1: bottom, y2: bottom + 4, stroke: INK }),
      label(x, bottom + 16, text, MIDDLE),
    );
  for (const { position: y, text } of yTicks)
    parts.push(el('line', { x1: left - 4, x2: left, y1: y, y2: y, stroke: INK }), label(left - 7, y + 4, text, END));
  const axisLabel = { ...MIDDLE, class: 'rfe-axis-label' };
  parts.push(label((left + right) / 2, bottom + 34, xLabel, axisLabel));
  if (yLabel) parts.push(label(14, middle, yLabel, { ...axisLabel, transform: `rotate(-90 14 ${n(middle)})` }));
  return parts.join('');
}

function legend(x: number, items: ReadonlyArray<{ swatch: string; text: string }>): string {
  let offset = 0;
  const entries = items.map(({ swatch, text }) => {
    const entry = el('g', { transform: `translate(${n(offset)} 0)` }, swatch + label(14, 9, text));
    offset += 28 + textWidth(text);
    return entry;
  });
  return el('g', { class: 'rfe-legend', transform: `translate(${n(x)} 8)` }, entries.join(''));
}

const swatch = (fill: string, stroke: string): string => el('rect', { width: 10, height: 10, fill, stroke });

/** A 6x6 tile on white: diagonal hatch or dots in `colour`, so the fill still reads in grayscale. */
function fillPattern(patternId: string, colour: string, kind: 'hatch' | 'dots'): string {
  const mark =
    kind === 'hatch'
      ? el('path', { d: 'M0 6L6 0M-1 1L1 -1M5 7L7 5', stroke: colour, 'stroke-width': 1.5 })
      : el('circle', { cx: 3, cy: 3, r: 1.3, fill: colour });
  const tile = el('rect', { width: 6, height: 6, fill: '#fff' }) + mark;
  return el('pattern', { id: patternId, width: 6, height: 6, patternUnits: 'userSpaceOnUse' }, tile);
}

/** Vertical bars, one per bin; the `marked` part of each bin is the hatched bottom of its bar. */
export function histogram(options: HistogramOptions): string {
  const { id, bins } = options;
  checkId(id);
  const width = chartSize(options.width, 560, 'width');
  const height = chartSize(options.height, 280, 'height');
  if (bins.length === 0) return noData(options, width);
  const frame: Frame = { left: 56, top: 36, right: width - 16, bottom: height - 46 };
  const maxCount = Math.max(0, ...bins.map((bin) => (isNumber(bin.count) ? bin.count : 0)));
  const step = Math.max(1, niceStep(maxCount, 4));
  const yTop = step * Math.max(1, Math.ceil(maxCount / step));
  const toHeight = (count: number): number => (clamp(count, 0, yTop) / yTop) * (frame.bottom - frame.top);
  const slot = (frame.right - frame.left) / bins.length;
  const markedLabel = options.markedLabel ?? 'marked';
  const markedFill = `url(#${id}-hatch)`;
  const layout = { width: Math.max(1, slot - 2), baseline: frame.bottom, toHeight, markedLabel, markedFill };
  const bars = bins.map((bin, i) => histogramBar(bin, frame.left + i * slot + 1, layout));
  const every = Math.ceil(bins.length / Math.max(1, Math.floor((frame.right - frame.left) / 48)));
  const edges = [...bins.map((bin) => bin.from), bins[bins.length - 1]?.to ?? Number.NaN];
  const xTicks = edges
    .map((edge, i) => ({ position: frame.left + i * slot, text: formatValue(edge) }))
    .filter((_, i) => i === bins.length || (i % every === 0 && bins.length - i >= every));
  const yTicks = ticksBetween(0, yTop, step).map((c) => ({ position: frame.bottom - toHeight(c), text: String(c) }));
  const key = legend(frame.left, [
    { swatch: swatch(PALETTE[0], PALETTE[0]), text: 'texts' },
    { swatch: swatch(markedFill, PALETTE[1]), text: markedLabel },
  ]);
  const defs = el('defs', {}, fillPattern(`${id}-hatch`, PALETTE[1], 'hatch'));
  const chart = axes(frame, xTicks, yTicks, options.xLabel, options.yLabel);
  return svgDocument(options, width, height, defs + chart + bars.join('') + key);
}

type BinLayout = {
  width: number;
  baseline: number;
  toHeight: (count: number) => number;
  markedLabel: string;
  markedFill: string;
};

function histogramBar(bin: HistogramBin, x: number, layout: BinLayout): string {
  const { width, baseline, toHeight } = layout;
  const centre = x + width / 2;
  if (!isNumber(bin.count)) return label(centre, baseline - 4, 'n/a', { ...MIDDLE, class: 'rfe-missing' });
  const count = Math.max(0, bin.count);
  const marked = bin.marked === undefined ? 0 : isNumber(bin.marked) ? clamp(bin.marked, 0, count) : undefined;
  const range = `${formatValue(bin.from)} to ${formatValue(bin.to)}`;
  const tip = tooltip(`${range}: ${count} texts, ${marked ?? 'n/a'} ${layout.markedLabel}`);
  const [total, part] = [toHeight(count), toHeight(marked ?? 0)];
  const parts = [el('rect', { class: 'rfe-bar', x, y: baseline - total, width, height: total, fill: PALETTE[0] }, tip)];
  const markedBox = { class: 'rfe-bar-marked', x, y: baseline - part, width, height: part };
  if (part > 0) parts.push(el('rect', { ...markedBox, fill: layout.markedFill, stroke: PALETTE[1] }, tip));
  if (width >= textWidth(String(count)))
    parts.push(label(centre, baseline - total - 3, String(count), { ...MIDDLE, class: 'rfe-value' }));
  return parts.join('');
}

/** "22.7 MB", but "1.84x" and "99.5%". */
const valueText = (value: number | null, unit: string): string =>
  !isNumber(value) ? 'n/a' : `${formatValue(value)}${unit === '' || /^[x%×]/.test(unit) ? '' : ' '}${unit}`;

/** Bar length as a fraction of the plot width, and the axis ticks. */
function barScale(values: number[], logScale: boolean): { fraction: (value: number) => number; ticks: number[] } {
  if (!logScale) {
    const top = Math.max(0, ...values) || 1;
    return { fraction: (value) => clamp(value / top, 0, 1), ticks: ticksBetween(0, top, niceStep(top, 4)) };
  }
  const positive = values.filter((value) => value > 0);
  // One decade below the smallest value, so the smallest bar still has a length (zero length means "<= 0").
  const lo = positive.length > 0 ? Math.ceil(Math.log10(Math.min(...positive))) - 1 : 0;
  const hi = positive.length > 0 ? Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive)))) : 1;
  const fraction = (value: number): number => (value > 0 ? clamp((Math.log10(value) - lo) / (hi - lo), 0, 1) : 0);
  return { fraction, ticks: ticksBetween(lo, hi, Math.ceil((hi - lo) / 6)).map((k) => 10 ** k) };
}

/** Series i: colour i, and solid / hatched / dotted fill in turn. */
function seriesStyle(id: string, index: number): SeriesStyle {
  const colour = PALETTE[index % PALETTE.length] ?? INK;
  if (index % 3 === 0) return { colour, fill: colour, defs: '' };
  const patternId = `${id}-series-${index}`;
  return {
    colour,
    fill: `url(#${patternId})`,
    defs: fillPattern(patternId, colour, index % 3 === 1 ? 'hatch' : 'dots'),
  };
}

/** Horizontal grouped bars; bars with the same label share colour and fill pattern across groups. */
export function barChart(options: BarChartOptions): string {
  const { id, unit, reference } = options;
  checkId(id);
  const width = chartSize(options.width, 560, 'width');
  const groups = options.groups.filter((group) => group.bars.length > 0);
  if (groups.length === 0) return noData(options, width);
  const bars = groups.flatMap((group) => group.bars);
  const series = [...new Set(bars.map((bar) => bar.label))];
  const styles = series.map((_, i) => seriesStyle(id, i));
  const logScale = options.logScale ?? false;
  const referenceValue =
    reference && isNumber(reference.value) && (!logScale || reference.value > 0) ? reference.value : undefined;
  const values = bars.map((bar) => bar.value).filter(isNumber);
  const scale = barScale(referenceValue === undefined ? values : [...values, referenceValue], logScale);
  const left = clamp(Math.max(...bars.map((bar) => textWidth(bar.label))) + 16, 48, width * 0.35);
  const right =
    width - clamp(Math.max(...bars.map((bar) => textWidth(valueText(bar.value, unit)))) + 12, 36, width * 0.3);
  const rowLayout = { left, unit, xOf: (value: number): number => left + scale.fraction(value) * (right - left) };
  const rows: string[] = [];
  let y = 48;
  for (const group of groups) {
    rows.push(label(8, y + 12, group.label, { 'font-weight': 'bold', class: 'rfe-group' }));
    y += 18;
    for (const bar of group.bars) {
      rows.push(barRow(`${group.label}, ${bar.label}`, bar, y, seriesStyle(id, series.indexOf(bar.label)), rowLayout));
      y += BAR_HEIGHT + 4;
    }
    y += 6;
  }
  const frame: Frame = { left, top: 44, right, bottom: y };
  const xTicks = scale.ticks.map((tick) => ({ position: rowLayout.xOf(tick), text: formatValue(tick) }));
  const xLabel = `${unit || 'value'}${logScale ? ' (log scale)' : ''}`;
  const mark =
    reference && referenceValue !== undefined
      ? referenceLine(frame, rowLayout.xOf(referenceValue), reference.label)
      : '';
  const entries = styles.map((style, i) => ({ text: series[i] ?? '', swatch: swatch(style.fill, style.colour) }));
  const key = legend(left, entries);
  const defs = el('defs', {}, styles.map((style) => style.defs).join(''));
  return svgDocument(options, width, y + 40, defs + axes(frame, xTicks, [], xLabel, '') + rows.join('') + mark + key);
}

type RowLayout = { left: number; unit: string; xOf: (value: number) => number };

function barRow(name: string, bar: Bar, y: number, style: SeriesStyle, layout: RowLayout): string {
  const text = valueText(bar.value, layout.unit);
  const barLabel = label(layout.left - 6, y + 11, bar.label, END);
  if (!isNumber(bar.value)) return barLabel + label(layout.left + 4, y + 11, text, { class: 'rfe-missing' });
  const end = layout.xOf(bar.value);
  const box = { x: layout.left, y, width: end - layout.left, height: BAR_HEIGHT };
  const tip = tooltip(`${name}: ${text}`);
  const rect = el('rect', { class: 'rfe-bar', ...box, fill: style.fill, stroke: style.colour }, tip);
  return barLabel + rect + label(end + 4, y + 11, text, { class: 'rfe-value' });
}

function referenceLine(frame: Frame, x: number, text: string): string {
  const half = textWidth(text) / 2;
  const anchor = x + half > frame.right ? 'end' : x - half < frame.left ? 'start' : 'middle';
  const dashed = { stroke: INK, 'stroke-dasharray': '4 3' };
  const line = el('line', { class: 'rfe-reference', x1: x, x2: x, y1: frame.top - 4, y2: frame.bottom, ...dashed });
  return line + label(x, frame.top - 8, text, { 'text-anchor': anchor });
}

/** Search trials: passing points are filled circles, failing points are crosses; `threshold` is the gate. */
export function scatterPlot(options: ScatterPlotOptions): string {
  const { id, threshold, xLabel, yLabel } = options;
  checkId(id);
  const width = chartSize(options.width, 560, 'width');
  const height = chartSize(options.height, 300, 'height');
  const points = options.points.filter((point) => isNumber(point.x) && isNumber(point.y));
  const missing = options.points.length - points.length;
  const note = missing > 0 ? `${missing} point${missing === 1 ? '' : 's'} n/a (non-finite values)` : '';
  if (points.length === 0) return noData(options, width, note ? `no data (${note})` : 'no data');
  const frame: Frame = { left: 56, top: 36, right: width - 16, bottom: height - 46 };
  const xs = points.map((point) => point.x);
  const [xLo, xHi] = paddedDomain(Math.min(...xs), Math.max(...xs));
  const thresholdY = threshold && isNumber(threshold.y) ? threshold.y : undefined;
  const ys = points.map((point) => point.y);
  const [yLo, yHi] = scatterYDomain(ys, thresholdY, options.yDomain);
  const xOf = (x: number): number => frame.left + ((x - xLo) / (xHi - xLo)) * (frame.right - frame.left);
  const yOf = (y: number): number =>
    frame.bottom - ((clamp(y, yLo, yHi) - yLo) / (yHi - yLo)) * (frame.bottom - frame.top);
  const xStep = xs.every(Number.isInteger) ? Math.max(1, niceStep(xHi - xLo, 6)) : niceStep(xHi - xLo, 6);
  const xTicks = ticksBetween(xLo, xHi, xStep).map((x) => ({ position: xOf(x), text: formatValue(x) }));
  const yTicks = ticksBetween(yLo, yHi, niceStep(yHi - yLo, 5)).map((y) => ({
    position: yOf(y),
    text: formatPercent(y),
  }));
  const marks = points.map((point) => {
    const values = `${xLabel} ${formatValue(point.x)}, ${yLabel} ${formatPercent(point.y)}`;
    const tip = tooltip(`${point.label}: ${values}, ${point.passed ? 'passed' : 'failed'}`);
    return (point.passed ? passMark : failMark)(xOf(point.x), yOf(point.y), tip);
  });
  const gate = threshold && thresholdY !== undefined ? thresholdLine(frame, yOf(thresholdY), threshold.label) : '';
  const shapes = [
    { swatch: passMark(5, 5, ''), text: 'passed' },
    { swatch: failMark(5, 5, ''), text: 'failed' },
  ];
  const noteText = note ? label(frame.right, 17, note, { ...END, class: 'rfe-missing' }) : '';
  const chart = axes(frame, xTicks, yTicks, xLabel, yLabel);
  return svgDocument(options, width, height, chart + gate + marks.join('') + legend(frame.left, shapes) + noteText);
}

function paddedDomain(lo: number, hi: number): [number, number] {
  const pad = lo === hi ? 1 : (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** The given domain if valid, else [lowest y or threshold - a small pad, 1] within [0, 1]. */
function scatterYDomain(ys: number[], thresholdY: number | undefined, given?: [number, number]): [number, number] {
  if (given && isNumber(given[0]) && isNumber(given[1]) && given[0] < given[1]) return given;
  const lowest = Math.min(...ys, thresholdY ?? 1);
  return [clamp(lowest - Math.max(0.01, (1 - lowest) * 0.1), 0, 0.99), 1];
}

const passMark = (cx: number, cy: number, tip: string): string =>
  el('circle', { class: 'rfe-point-pass', cx, cy, r: 4.5, fill: PALETTE[0] }, tip);

function failMark(x: number, y: number, tip: string): string {
  const cross =
    el('line', { x1: x - 4, y1: y - 4, x2: x + 4, y2: y + 4 }) +
    el('line', { x1: x - 4, y1: y + 4, x2: x + 4, y2: y - 4 });
  return el('g', { class: 'rfe-point-fail', stroke: FAIL_COLOUR, 'stroke-width': 2 }, tip + cross);
}

function thresholdLine(frame: Frame, y: number, text: string): string {
  const dashed = { stroke: INK, 'stroke-dasharray': '5 3' };
  const line = el('line', { class: 'rfe-threshold', x1: frame.left, x2: frame.right, y1: y, y2: y, ...dashed });
  return line + label(frame.right - 2, y - 4, text, END);
}

/** A grid whose cell shade (white to dark blue) is proportional to value / max, with each value printed in its cell. */
export function heatMap(options: HeatMapOptions): string {
  const { id, rows, columns, cells } = options;
  checkId(id);
  if (cells.length !== rows.length || cells.some((row) => row.length !== columns.length))
    throw new Error(`Heat map cells must be ${rows.length} rows of ${columns.length} numbers each`);
  const width = chartSize(options.width, 560, 'width');
  if (rows.length === 0 || columns.length === 0) return noData(options, width);
  const left = clamp(Math.max(...rows.map(textWidth), textWidth(options.rowLabel)) + 14, 60, width * 0.4);
  const [top, cellHeight, cellWidth] = [44, 26, (width - left - 12) / columns.length];
  const bottom = top + rows.length * cellHeight;
  const max = Math.max(0, ...cells.flat().filter(isNumber));
  const grid = cells.flatMap((row, r) =>
    row.map((value, c) => {
      const box = { x: left + c * cellWidth, y: top + r * cellHeight, width: cellWidth, height: cellHeight };
      return heatCell(`${rows[r]}, ${columns[c]}`, value, max, box);
    }),
  );
  const bold = { 'font-weight': 'bold', class: 'rfe-axis-label' };
  const axisTexts = [
    label(left + (width - left - 12) / 2, 16, options.columnLabel, { ...bold, ...MIDDLE }),
    label(left - 8, top - 8, options.rowLabel, { ...bold, ...END }),
    ...columns.map((column, c) => label(left + (c + 0.5) * cellWidth, top - 8, column, MIDDLE)),
    ...rows.map((row, r) => label(left - 8, top + (r + 0.5) * cellHeight + 4, row, END)),
  ];
  const body = axisTexts.join('') + grid.join('') + rampLegend(id, left, bottom + 14, max);
  return svgDocument(options, width, bottom + 36, body);
}

function heatCell(name: string, value: number, max: number, box: Box): string {
  const shade = isNumber(value) && max > 0 ? clamp(value / max, 0, 1) : 0;
  const text = formatValue(value);
  const cellStyle = { fill: rampColour(shade), stroke: '#999', 'stroke-width': 0.5 };
  const rect = el('rect', { class: 'rfe-cell', ...box, ...cellStyle }, tooltip(`${name}: ${text}`));
  if (textWidth(text) > box.width - 4) return rect;
  const ink = shade > 0.5 ? '#fff' : INK;
  const textStyle = { ...MIDDLE, fill: ink, class: isNumber(value) ? 'rfe-cell-value' : 'rfe-missing' };
  return rect + label(box.x + box.width / 2, box.y + box.height / 2 + 4, text, textStyle);
}

function rampColour(shade: number): string {
  const channels = RAMP_DARK.map((dark) => Math.round(255 + (dark - 255) * shade));
  return `#${channels.map((channel) => channel.toString(16).padStart(2, '0')).join('')}`;
}

function rampLegend(id: string, x: number, y: number, max: number): string {
  const stops =
    el('stop', { offset: 0, 'stop-color': '#fff' }) + el('stop', { offset: 1, 'stop-color': rampColour(1) });
  const gradient = el('defs', {}, el('linearGradient', { id: `${id}-ramp` }, stops));
  const ramp = el('rect', { x: x + 12, y, width: 120, height: 10, fill: `url(#${id}-ramp)`, stroke: INK });
  return gradient + ramp + label(x + 8, y + 9, '0', END) + label(x + 136, y + 9, formatValue(max));
}
