import {
  AxisLabels,
  ChartText,
  Frame,
  MIDDLE,
  PALETTE,
  Size,
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

export type HistogramBin = { from: number; to: number; count: number; marked?: number };
export type HistogramOptions = ChartText & Size & AxisLabels & { bins: readonly HistogramBin[]; markedLabel?: string };

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
