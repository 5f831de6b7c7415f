import {
  Box,
  ChartText,
  END,
  INK,
  MIDDLE,
  RAMP_DARK,
  Width,
  chartSize,
  checkId,
  clamp,
  el,
  formatValue,
  isNumber,
  label,
  noData,
  svgDocument,
  textWidth,
  tooltip,
} from './core.js';

export interface HeatMapOptions extends ChartText, Width {
  rowLabel: string;
  columnLabel: string;
  rows: readonly string[];
  columns: readonly string[];
  cells: ReadonlyArray<ReadonlyArray<number>>;
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
