import type { ParityReport } from '../config/report.js';
import { comparisonVariant } from '../plan/variants.js';
import { formatNumber } from '../verify/gates.js';
import { isHeadline, percent, summaryRows, variantTitle, type TaskReport } from './facts.js';
import { keptGrid, methodsText } from './kept-nodes.js';
import {
  barChart,
  heatMap,
  histogram,
  scatterPlot,
  type Bar,
  type BarGroup,
  type HistogramBin,
  type ScatterPoint,
} from './svg.js';

export interface Figure {
  id: string;
  heading: string;
  svg: string;
  caption: string;
}

/** Inline SVG in HTML needs no namespace; leaving it out keeps the page free of any URL. */
const inline = (svg: string): string => svg.replace(' xmlns="http://www.w3.org/2000/svg"', '');

/** The comparison whose flips matter most: the judged INT8 texts, else FP16's. */
function flipComparison(task: TaskReport): string | undefined {
  const keys = Object.keys(task.comparisons).filter((key) => isHeadline(key) && task.comparisons[key]!.marginHistogram);
  return keys.find((key) => key === 'int8') ?? keys.find((key) => key !== 'fp32') ?? keys[0];
}

function marginFigures(report: ParityReport): Figure[] {
  return report.tasks.flatMap((task, t) => {
    const comparison = flipComparison(task);
    const h = comparison ? task.comparisons[comparison]!.marginHistogram : undefined;
    if (!comparison || !h || h.texts.length === 0) return [];
    const variant = variantTitle(comparisonVariant(comparison)!);
    const flips = h.flips.reduce((a, b) => a + b, 0);
    const texts = h.texts.reduce((a, b) => a + b, 0);
    const bins: HistogramBin[] = h.texts.map((count, i) => ({
      from: h.edges[i]!,
      to: h.edges[i + 1]!,
      count,
      marked: h.flips[i] ?? 0,
    }));
    const id = `margin-${t}`;
    const description = `${texts} texts by PyTorch's top-2 softmax margin; ${flips} of them change top-1 under ${variant} (hatched).`;
    const svg = histogram({
      id,
      title: `${task.task}: PyTorch top-2 margin, ${variant} flips marked`,
      description,
      xLabel: "PyTorch's top-2 softmax margin",
      yLabel: 'texts',
      bins,
      markedLabel: `flipped under ${variant}`,
      width: 480,
      height: 240,
    });
    return [{ id, heading: `${task.task}: where ${variant} flips sit`, svg: inline(svg), caption: description }];
  });
}

function errorFigure(report: ParityReport): Figure[] {
  const rows = summaryRows(report);
  const groups: BarGroup[] = report.tasks.map((task) => ({
    label: task.task,
    bars: rows
      .filter((row) => row.task === task.task)
      .flatMap((row) => [
        { label: `${variantTitle(row.variant)} max`, value: row.metrics.maxAbsDiff },
        { label: `${variantTitle(row.variant)} mean`, value: row.metrics.meanAbsDiff },
      ]),
  }));
  if (groups.every((group) => group.bars.length === 0)) return [];
  const fp32Gate = report.tasks
    .flatMap((t) => t.gates)
    .find((g) => g.comparison === 'fp32' && g.metric === 'maxAbsDiff');
  const description = rows
    .map(
      (row) =>
        `${row.task} ${variantTitle(row.variant)}: max ${formatNumber(row.metrics.maxAbsDiff)}, mean ${formatNumber(row.metrics.meanAbsDiff)}`,
    )
    .join('; ');
  const svg = barChart({
    id: 'logit-error',
    title: 'Absolute logit difference from PyTorch, per task and variant',
    description,
    unit: '',
    groups,
    logScale: true,
    ...(fp32Gate ? { reference: { value: fp32Gate.limit, label: `FP32 gate ${formatNumber(fp32Gate.limit)}` } } : {}),
  });
  return [
    { id: 'logit-error', heading: 'INT8 vs FP32 logit error (log scale)', svg: inline(svg), caption: description },
  ];
}

function sizeFigure(report: ParityReport): Figure[] {
  const groups = report.tasks
    .filter((task) => task.sizes)
    .map((task) => ({
      label: task.task,
      bars: Object.entries(task.sizes!).map(([variant, bytes]): Bar => ({
        label: variant.toUpperCase(),
        value: Number((bytes / 2 ** 20).toFixed(1)),
      })),
    }));
  if (groups.length === 0) return [];
  const description = groups
    .map((g) => `${g.label}: ${g.bars.map((b) => `${b.label} ${b.value} MiB`).join(', ')}`)
    .join('; ');
  const svg = barChart({ id: 'sizes', title: 'Graph size per variant', description, unit: 'MiB', groups });
  return [{ id: 'sizes', heading: 'Size per variant', svg: inline(svg), caption: description }];
}

function latencyGroups(report: ParityReport): { groups: BarGroup[]; unit: string; title: string } | undefined {
  const measured = report.tasks.filter((task) => (task.latency ?? []).length > 0);
  if (measured.length > 0) {
    const groups = measured.flatMap((task) =>
      task.latency!.map((l) => ({
        label: `${task.task}, batch ${l.batch}, ${l.sequence} tokens`,
        bars: [
          { label: 'FP32', value: l.fp32Ms },
          ...(l.int8Ms !== undefined ? [{ label: 'INT8', value: l.int8Ms }] : []),
          ...(l.fp16Ms !== undefined ? [{ label: 'FP16', value: l.fp16Ms }] : []),
        ],
      })),
    );
    return { groups, unit: 'ms', title: 'Latency per variant (--latency)' };
  }
  const points = report.int8?.calibration?.speed?.points ?? [];
  if (points.length === 0) return undefined;
  const groups = points.map((p) => ({
    label: `batch ${p.batch}, ${p.sequence} tokens`,
    bars: [{ label: 'INT8 over FP32', value: p.speedup }],
  }));
  return {
    groups,
    unit: 'x',
    title: 'INT8 speed-up over FP32 (measured by the INT8 search)',
  };
}

function latencyFigure(report: ParityReport): Figure[] {
  const chart = latencyGroups(report);
  if (!chart) return [];
  const description = chart.groups
    .map((g) => `${g.label}: ${g.bars.map((b) => `${b.label} ${b.value?.toFixed(2)} ${chart.unit}`).join(', ')}`)
    .join('; ');
  const reference = chart.unit === 'x' ? { reference: { value: 1, label: 'FP32 speed' } } : {};
  const svg = barChart({
    id: 'speed',
    title: chart.title,
    description,
    unit: chart.unit,
    groups: chart.groups,
    ...reference,
  });
  return [{ id: 'speed', heading: chart.title, svg: inline(svg), caption: description }];
}

function trialsFigure(report: ParityReport): Figure[] {
  const calibration = report.int8?.calibration;
  if (!calibration || calibration.trials.length === 0) return [];
  const points: ScatterPoint[] = calibration.trials.map((trial, i) => ({
    x: trial.fallbackNodes,
    y: Math.min(...Object.values(trial.agreement)),
    label: `trial ${i + 1} (${trial.base}${trial.stoppedEarly ? ', stopped early' : ''})`,
    passed: trial.passed,
  }));
  const target = Math.min(...Object.values(calibration.target));
  const description = points
    .map(
      (p) =>
        `${p.label}: ${p.x} MatMuls at higher precision, lowest task agreement ${percent(p.y)}, ${p.passed ? 'passed' : 'failed'}`,
    )
    .join('; ');
  const svg = scatterPlot({
    id: 'trials',
    title: 'INT8 search trials: agreement against MatMuls kept at higher precision',
    description,
    xLabel: 'MatMuls at higher precision',
    yLabel: 'lowest task agreement',
    points,
    ...(Number.isFinite(target) ? { threshold: { y: target, label: `calibration target ${percent(target, 1)}` } } : {}),
  });
  return [{ id: 'trials', heading: 'INT8 search trials', svg: inline(svg), caption: description }];
}

function keptFigure(report: ParityReport): Figure[] {
  const grid = keptGrid(report.int8?.higherPrecision ?? {});
  if (grid.total === 0) return [];
  const description = `${grid.total} MatMuls kept at higher precision (${methodsText(grid)}), counted by kind (rows) and layer (columns).`;
  const svg = heatMap({
    id: 'kept',
    title: 'MatMuls kept at higher precision, by kind and layer',
    description,
    rowLabel: 'kind',
    columnLabel: 'layer',
    rows: grid.kinds,
    columns: grid.layers,
    cells: grid.cells,
  });
  return [{ id: 'kept', heading: 'MatMuls kept at higher precision', svg: inline(svg), caption: description }];
}

export function figures(report: ParityReport): Figure[] {
  return [
    ...marginFigures(report),
    ...errorFigure(report),
    ...sizeFigure(report),
    ...latencyFigure(report),
    ...trialsFigure(report),
    ...keptFigure(report),
  ];
}
