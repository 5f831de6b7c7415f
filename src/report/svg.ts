/**
 * Hand-written SVG charts for the self-contained HTML parity report. Every chart is deterministic (same input, same
 * bytes) and readable without CSS or colour: marked/failed things also differ by pattern or shape, values are printed
 * as text where there is room, and non-finite values are skipped and printed as "n/a".
 */
export { escapeXml, formatValue } from './svg/core.js';
export { histogram, type HistogramBin, type HistogramOptions } from './svg/histogram.js';
export { barChart, type Bar, type BarChartOptions, type BarGroup } from './svg/bar-chart.js';
export { scatterPlot, type ScatterPlotOptions, type ScatterPoint } from './svg/scatter-plot.js';
export { heatMap, type HeatMapOptions } from './svg/heat-map.js';
