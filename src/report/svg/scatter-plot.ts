import {
  AxisLabels,
  ChartText,
  END,
  FAIL_COLOUR,
  Frame,
  INK,
  PALETTE,
  Size,
  axes,
  chartSize,
  checkId,
  clamp,
  el,
  formatPercent,
  formatValue,
  isNumber,
  label,
  legend,
  niceStep,
  noData,
  svgDocument,
  ticksBetween,
  tooltip,
} from './core.js';

export type ScatterPoint = { x: number; y: number; label: string; passed: boolean };
export interface ScatterPlotOptions extends ChartText, Size, AxisLabels {
  points: readonly ScatterPoint[];
  threshold?: { y: number; label: string };
  yDomain?: [number, number];
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
