/** The shared pieces of the SVG charts: elements, text, axes, legends, fill patterns. */
export type ChartText = { id: string; title: string; description: string };
export type Width = { width?: number };
export type Size = Width & { height?: number };
export type AxisLabels = { xLabel: string; yLabel: string };

export type Attributes = Record<string, string | number | undefined>;
export type Frame = { left: number; top: number; right: number; bottom: number };
export type Box = { x: number; y: number; width: number; height: number };
export type Tick = { position: number; text: string };
export type SeriesStyle = { colour: string; fill: string; defs: string };

export const INK = '#000';
export const PALETTE = ['#1f4e79', '#b35806', '#1b7837', '#762a83', '#4d4d4d'] as const;
export const FAIL_COLOUR = '#b2182b';
export const RAMP_DARK = [8, 48, 107] as const;
export const BAR_HEIGHT = 14;
export const MIDDLE = { 'text-anchor': 'middle' } as const;
export const END = { 'text-anchor': 'end' } as const;

export function escapeXml(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
  return text.replace(/[&<>"']/g, (character) => entities[character] ?? character);
}

/** A number for an attribute: at most 2 decimals, never NaN/Infinity (callers skip non-finite values first). */
function n(x: number): string {
  const rounded = Number.isFinite(x) ? Math.round(x * 100) / 100 : 0;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

export function el(tag: string, attributes: Attributes, content?: string): string {
  const rendered = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? n(value) : escapeXml(value)}"`)
    .join('');
  return content === undefined ? `<${tag}${rendered}/>` : `<${tag}${rendered}>${content}</${tag}>`;
}

export const label = (x: number, y: number, text: string, extra: Attributes = {}): string =>
  el('text', { x, y, fill: INK, ...extra }, escapeXml(text));
export const tooltip = (text: string): string => el('title', {}, escapeXml(text));
export const isNumber = (value: number | null | undefined): value is number => Number.isFinite(value);
export const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
/** Rough width of 11px system-ui text: enough to decide whether a label fits. */
export const textWidth = (text: string): number => text.length * 6.2;

/** Compact value text: integers as they are, otherwise 3 significant digits (exponent form when tiny or huge). */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e6) return String(value);
  const rounded = Number(value.toPrecision(3));
  return abs >= 1e6 || abs < 1e-3 ? rounded.toExponential().replace('e+', 'e') : String(rounded);
}

export const formatPercent = (fraction: number): string => `${formatValue(Number((fraction * 100).toPrecision(6)))}%`;

export function checkId(id: string): void {
  if (!/^[A-Za-z][\w-]*$/.test(id))
    throw new Error(`Invalid chart id ${JSON.stringify(id)}: use a letter, then \\w or -`);
}

export function chartSize(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 120) throw new Error(`Chart ${what} must be a finite number >= 120: ${value}`);
  return value;
}

export function svgDocument(chart: ChartText, width: number, height: number, body: string): string {
  const { id } = chart;
  const root = { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${n(width)} ${n(height)}`, width, height };
  const accessibility = { role: 'img', 'aria-labelledby': `${id}-title ${id}-desc` };
  const font = { 'font-family': 'system-ui, sans-serif', 'font-size': 11, class: 'rfe-chart' };
  const heading = el('title', { id: `${id}-title` }, escapeXml(chart.title));
  const description = el('desc', { id: `${id}-desc` }, escapeXml(chart.description));
  return el('svg', { ...root, ...accessibility, ...font }, heading + description + body);
}

export function noData(chart: ChartText, width: number, note = 'no data'): string {
  return svgDocument(chart, width, 60, label(width / 2, 34, note, { ...MIDDLE, class: 'rfe-no-data' }));
}

/** The smallest 1/2/5 x 10^k step that splits `span` into at most `intervals` parts. */
export function niceStep(span: number, intervals: number): number {
  if (!(span > 0)) return 1;
  const raw = span / intervals;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((step) => step >= raw * (1 - 1e-9)) ?? 10 * magnitude;
}

export function ticksBetween(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
    ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

export function axes(frame: Frame, xTicks: Tick[], yTicks: Tick[], xLabel: string, yLabel: string): string {
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

export function legend(x: number, items: ReadonlyArray<{ swatch: string; text: string }>): string {
  let offset = 0;
  const entries = items.map(({ swatch, text }) => {
    const entry = el('g', { transform: `translate(${n(offset)} 0)` }, swatch + label(14, 9, text));
    offset += 28 + textWidth(text);
    return entry;
  });
  return el('g', { class: 'rfe-legend', transform: `translate(${n(x)} 8)` }, entries.join(''));
}

export const swatch = (fill: string, stroke: string): string => el('rect', { width: 10, height: 10, fill, stroke });

/** A 6x6 tile on white: diagonal hatch or dots in `colour`, so the fill still reads in grayscale. */
export function fillPattern(patternId: string, colour: string, kind: 'hatch' | 'dots'): string {
  const mark =
    kind === 'hatch'
      ? el('path', { d: 'M0 6L6 0M-1 1L1 -1M5 7L7 5', stroke: colour, 'stroke-width': 1.5 })
      : el('circle', { cx: 3, cy: 3, r: 1.3, fill: colour });
  const tile = el('rect', { width: 6, height: 6, fill: '#fff' }) + mark;
  return el('pattern', { id: patternId, width: 6, height: 6, patternUnits: 'userSpaceOnUse' }, tile);
}
