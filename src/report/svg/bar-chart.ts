import {
  BAR_HEIGHT,
  ChartText,
  END,
  Frame,
  INK,
  PALETTE,
  SeriesStyle,
  Width,
  axes,
  chartSize,
  checkId,
  clamp,
  el,
  fillPattern,
  formatValue,
  isNumber,
  label,
  legend,
  niceStep,
  noData,
  svgDocument,
  swatch,
  textWidth,
  ticksBetween,
  tooltip,
} from './core.js';

export type Bar = { label: string; value: number | null };
export type BarGroup = { label: string; bars: readonly Bar[] };
export interface BarChartOptions extends ChartText, Width {
  unit: string;
  groups: readonly BarGroup[];
  logScale?: boolean;
  reference?: { value: number; label: string };
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
