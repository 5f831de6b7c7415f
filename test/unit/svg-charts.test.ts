import { describe, expect, it } from 'vitest';
import {
  barChart,
  escapeXml,
  formatValue,
  heatMap,
  histogram,
  scatterPlot,
  type BarChartOptions,
  type HeatMapOptions,
  type HistogramOptions,
  type ScatterPlotOptions,
} from '../../src/report/svg.js';

const TAG = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;

/** Start and end tags balance, there is a single `svg` root, and no `<`/`>` is left outside tags. */
function expectWellFormed(svg: string): void {
  const open: string[] = [];
  const roots: string[] = [];
  for (const [, closing, name = '', , selfClosing] of svg.matchAll(TAG)) {
    if (closing) {
      expect(open.pop(), `</${name}> closes the innermost open tag`).toBe(name);
      continue;
    }
    if (open.length === 0) roots.push(name);
    if (!selfClosing) open.push(name);
  }
  expect(open).toEqual([]);
  expect(roots).toEqual(['svg']);
  expect(svg.replace(TAG, '')).not.toMatch(/[<>]/);
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
  expect(svg).not.toMatch(/NaN|undefined|Infinity|null/);
}

type Element = { attributes: Record<string, string>; content: string };

/** Where the element whose start tag precedes `rest` ends, counting nested elements of the same name. */
function closingIndex(rest: string, tag: string): number {
  let depth = 1;
  for (const match of rest.matchAll(new RegExp(`<(/?)${tag}\\b[^>]*?(/?)>`, 'g'))) {
    if (match[2] === '/') continue;
    depth += match[1] === '/' ? -1 : 1;
    if (depth === 0) return match.index ?? 0;
  }
  throw new Error(`unclosed <${tag}>`);
}

/** Elements `<tag ...>` (optionally with a given class) and, for non-empty ones, their inner text. */
function elements(svg: string, tag: string, className?: string): Element[] {
  const found: Element[] = [];
  for (const match of svg.matchAll(new RegExp(`<${tag}\\b([^>]*?)(/?)>`, 'g'))) {
    const attributes = Object.fromEntries(
      [...(match[1] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (className !== undefined && attributes.class !== className) continue;
    const rest = svg.slice((match.index ?? 0) + match[0].length);
    const content = match[2] === '/' ? '' : rest.slice(0, closingIndex(rest, tag));
    found.push({ attributes, content });
  }
  return found;
}

const numberOf = (element: Element, attribute: string): number => {
  const value = element.attributes[attribute];
  expect(value, `${attribute} attribute`).toBeDefined();
  return Number(value);
};
const texts = (svg: string, className?: string): string[] => elements(svg, 'text', className).map((e) => e.content);
const ids = (svg: string): string[] => [...svg.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1] ?? '');
const fillOf = (element: Element): string => element.attributes.fill ?? '';
const luminance = (hex: string): number =>
  [1, 3, 5].reduce((sum, at, i) => sum + [0.3, 0.59, 0.11][i]! * parseInt(hex.slice(at, at + 2), 16), 0);

const histogramInput = (id = 'hist'): HistogramOptions => ({
  id,
  title: 'Confidence',
  description: 'Texts by confidence',
  xLabel: 'confidence',
  yLabel: 'texts',
  markedLabel: 'flipped',
  bins: [
    { from: 0, to: 0.25, count: 1 },
    { from: 0.25, to: 0.5, count: 2, marked: 1 },
    { from: 0.5, to: 0.75, count: 4, marked: 3 },
  ],
});
const barInput = (id = 'bars'): BarChartOptions => ({
  id,
  title: 'Model size',
  description: 'Size by variant',
  unit: 'MB',
  groups: [
    {
      label: 'model',
      bars: [
        { label: 'FP32', value: 20 },
        { label: 'INT8', value: 5 },
        { label: 'FP16', value: 10 },
      ],
    },
    {
      label: 'tokenizer',
      bars: [
        { label: 'FP32', value: 2.5 },
        { label: 'INT8', value: 2.5 },
      ],
    },
  ],
});
const scatterInput = (id = 'trials'): ScatterPlotOptions => ({
  id,
  title: 'INT8 search',
  description: 'Agreement by kept MatMuls',
  xLabel: 'MatMuls kept',
  yLabel: 'agreement',
  threshold: { y: 0.98, label: 'gate 98%' },
  points: [
    { x: 0, y: 0.95, label: 'trial 1', passed: false },
    { x: 2, y: 0.975, label: 'trial 2', passed: false },
    { x: 4, y: 0.985, label: 'trial 3', passed: true },
    { x: 6, y: 0.995, label: 'trial 4', passed: true },
    { x: 8, y: 1, label: 'trial 5', passed: true },
  ],
});
const heatInput = (id = 'heat'): HeatMapOptions => ({
  id,
  title: 'Kept MatMuls',
  description: 'Kept MatMuls by kind and layer',
  rowLabel: 'kind',
  columnLabel: 'layer',
  rows: ['attention q/k/v', 'FFN up'],
  columns: ['0', '1', '2'],
  cells: [
    [0, 3, 1],
    [2, 6, 0],
  ],
});

const charts: Record<string, (id: string) => string> = {
  histogram: (id) => histogram(histogramInput(id)),
  barChart: (id) => barChart(barInput(id)),
  scatterPlot: (id) => scatterPlot(scatterInput(id)),
  heatMap: (id) => heatMap(heatInput(id)),
};
const emptyCharts: Record<string, (id: string) => string> = {
  histogram: (id) => histogram({ ...histogramInput(id), bins: [] }),
  barChart: (id) => barChart({ ...barInput(id), groups: [] }),
  scatterPlot: (id) => scatterPlot({ ...scatterInput(id), points: [] }),
  heatMap: (id) => heatMap({ ...heatInput(id), rows: [], cells: [] }),
};

describe.each(Object.keys(charts))('%s', (name) => {
  const draw = charts[name]!;
  const drawEmpty = emptyCharts[name]!;

  it('is a well-formed, accessible svg whose title and desc come first', () => {
    for (const svg of [draw('chart-1'), drawEmpty('chart-1')]) {
      expectWellFormed(svg);
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 [\d.]+ [\d.]+" width="[\d.]+"/);
      expect(svg).toMatch(/^<svg [^>]*height="[\d.]+"[^>]* role="img" aria-labelledby="chart-1-title chart-1-desc"/);
      expect(svg).toMatch(/^<svg [^>]*font-family="system-ui, sans-serif"/);
      expect(svg).toMatch(/^<svg [^>]*><title id="chart-1-title">[^<]+<\/title><desc id="chart-1-desc">[^<]+<\/desc>/);
      expect(svg.endsWith('</svg>')).toBe(true);
    }
  });

  it('derives every id from the given id, and every url(#...) points to one of them', () => {
    const svg = draw('chart-1');
    expect(ids(svg).length).toBeGreaterThanOrEqual(2);
    for (const id of ids(svg)) expect(id.startsWith('chart-1-')).toBe(true);
    for (const [, target] of svg.matchAll(/url\(#([^)]*)\)/g)) expect(ids(svg)).toContain(target);
    const other = ids(draw('other'));
    expect(ids(svg).filter((id) => other.includes(id))).toEqual([]);
  });

  it('gives the same bytes for the same input', () => {
    expect(draw('chart-1')).toBe(draw('chart-1'));
  });

  it('refuses an id that is not safe in an id attribute', () => {
    for (const id of ['', '1chart', 'a b', 'a"b', '-x', 'a<b']) expect(() => draw(id)).toThrow(/Invalid chart id/);
  });

  it('writes numeric attributes with at most 2 decimals', () => {
    const numeric = /\s(x|y|x1|x2|y1|y2|cx|cy|r|width|height)="([^"]*)"/g;
    const values = [...draw('chart-1').matchAll(numeric)].map((m) => m[2]);
    expect(values.length).toBeGreaterThan(10);
    for (const value of values) expect(value).toMatch(/^-?\d+(\.\d{1,2})?$/);
  });

  it('says "no data" for empty input', () => {
    const svg = drawEmpty('chart-1');
    expect(texts(svg)).toEqual(['no data']);
  });
});

describe('escaping', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`a < b & "c" 'd' > e`)).toBe('a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt; e');
    expect(escapeXml('&amp;')).toBe('&amp;amp;');
  });

  it('escapes titles, descriptions and labels in every chart', () => {
    const raw = 'a < b & "c"';
    const escaped = 'a &lt; b &amp; &quot;c&quot;';
    const outputs = [
      histogram({ ...histogramInput(), title: raw, description: raw, xLabel: raw, markedLabel: raw }),
      barChart({ ...barInput(), title: raw, unit: raw, groups: [{ label: raw, bars: [{ label: raw, value: 1 }] }] }),
      scatterPlot({ ...scatterInput(), title: raw, threshold: { y: 0.9, label: raw } }),
      heatMap({ ...heatInput(), title: raw, rows: [raw, 'b'], columnLabel: raw }),
    ];
    for (const svg of outputs) {
      expectWellFormed(svg);
      expect(svg).not.toContain(raw);
      expect(svg).toContain(`<title id="${/id="([^"]+)-title"/.exec(svg)?.[1]}-title">${escaped}</title>`);
    }
  });
});

describe('formatValue', () => {
  it('is compact', () => {
    expect([0, 0.25, 0.5, 1, 22.74, 1.8449, 1e-7, 1.234e-5, 1234.5, 2e7].map(formatValue)).toEqual([
      '0',
      '0.25',
      '0.5',
      '1',
      '22.7',
      '1.84',
      '1e-7',
      '1.23e-5',
      '1230',
      '2e7',
    ]);
    expect(formatValue(Number.NaN)).toBe('n/a');
  });
});

describe('histogram', () => {
  const svg = histogram(histogramInput('h'));

  it('draws bar heights proportional to counts, from a common baseline', () => {
    const bars = elements(svg, 'rect', 'rfe-bar');
    const heights = bars.map((bar) => numberOf(bar, 'height'));
    expect(heights).toHaveLength(3);
    expect(heights[1]! / heights[0]!).toBeCloseTo(2, 2);
    expect(heights[2]! / heights[0]!).toBeCloseTo(4, 2);
    const baselines = bars.map((bar) => numberOf(bar, 'y') + numberOf(bar, 'height'));
    expect(new Set(baselines.map((b) => b.toFixed(1))).size).toBe(1);
    expect(bars[2]!.content).toContain('<title>0.5 to 0.75: 4 texts, 3 flipped</title>');
  });

  it('draws the marked part as the hatched bottom of its bar, in proportion', () => {
    const bars = elements(svg, 'rect', 'rfe-bar');
    const marked = elements(svg, 'rect', 'rfe-bar-marked');
    expect(marked).toHaveLength(2);
    expect(svg).toContain('<pattern id="h-hatch"');
    for (const [part, bar, ratio] of [
      [marked[0]!, bars[1]!, 1 / 2],
      [marked[1]!, bars[2]!, 3 / 4],
    ] as const) {
      expect(part.attributes.fill).toBe('url(#h-hatch)');
      expect(numberOf(part, 'height') / numberOf(bar, 'height')).toBeCloseTo(ratio, 2);
      expect(numberOf(part, 'y') + numberOf(part, 'height')).toBeCloseTo(
        numberOf(bar, 'y') + numberOf(bar, 'height'),
        1,
      );
      expect(part.attributes.x).toBe(bar.attributes.x);
    }
  });

  it('labels integer y ticks, bin edges, counts and a legend with both series', () => {
    const labels = texts(svg);
    for (const expected of ['0', '1', '2', '3', '4', '0.25', '0.5', '0.75', 'texts', 'flipped', 'confidence'])
      expect(labels).toContain(expected);
    const yTickLabels = elements(svg, 'text')
      .filter((t) => t.attributes['text-anchor'] === 'end')
      .map((t) => t.content);
    expect(yTickLabels.length).toBeGreaterThanOrEqual(3);
    expect(yTickLabels.length).toBeLessThanOrEqual(5);
    for (const tick of yTickLabels) expect(Number.isInteger(Number(tick))).toBe(true);
    expect(texts(svg, 'rfe-value')).toEqual(['1', '2', '4']);
  });

  it('defaults the marked legend to "marked" and keeps 3-5 integer ticks for larger counts', () => {
    const big = histogram({ ...histogramInput(), markedLabel: undefined, bins: [{ from: 0, to: 1, count: 37 }] });
    expect(texts(big)).toContain('marked');
    const ticks = elements(big, 'text')
      .filter((t) => t.attributes['text-anchor'] === 'end')
      .map((t) => Number(t.content));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks.length).toBeLessThanOrEqual(5);
    expect(ticks.every(Number.isInteger)).toBe(true);
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(37);
  });

  it('skips non-finite counts and prints n/a for them', () => {
    const bins = [
      { from: 0, to: 1, count: 3 },
      { from: 1, to: 2, count: Number.NaN },
      { from: 2, to: 3, count: Number.POSITIVE_INFINITY, marked: 1 },
      { from: 3, to: 4, count: 2, marked: Number.NaN },
    ];
    const out = histogram({ ...histogramInput(), bins });
    expectWellFormed(out);
    expect(elements(out, 'rect', 'rfe-bar')).toHaveLength(2);
    expect(texts(out, 'rfe-missing')).toEqual(['n/a', 'n/a']);
    expect(out).toContain('2 texts, n/a flipped');
  });
});

describe('barChart', () => {
  it('draws bar widths proportional to values and prints value and unit', () => {
    const svg = barChart(barInput('b'));
    const bars = elements(svg, 'rect', 'rfe-bar');
    const widths = bars.map((bar) => numberOf(bar, 'width'));
    expect(widths).toHaveLength(5);
    [20, 5, 10, 2.5, 2.5].forEach((value, i) => expect(widths[i]! / widths[0]!).toBeCloseTo(value / 20, 2));
    expect(texts(svg, 'rfe-value')).toEqual(['20 MB', '5 MB', '10 MB', '2.5 MB', '2.5 MB']);
    expect(texts(svg, 'rfe-group')).toEqual(['model', 'tokenizer']);
    expect(bars[1]!.content).toBe('<title>model, INT8: 5 MB</title>');
  });

  it('gives a bar label the same fill in every group and each label a distinct fill, listed in the legend', () => {
    const svg = barChart(barInput('b'));
    const fills = elements(svg, 'rect', 'rfe-bar').map(fillOf);
    expect(fills[0]).toBe(fills[3]);
    expect(fills[1]).toBe(fills[4]);
    expect(new Set(fills.slice(0, 3)).size).toBe(3);
    expect(fills[1]).toBe('url(#b-series-1)');
    expect(fills[2]).toBe('url(#b-series-2)');
    expect(fills[0]).toMatch(/^#[0-9a-f]{6}$/);
    const legendEntries = elements(svg, 'g', 'rfe-legend')[0]!.content;
    for (const label of ['FP32', 'INT8', 'FP16']) expect(legendEntries).toContain(`>${label}</text>`);
  });

  it('grows in height with the number of bars', () => {
    const height = (svg: string): number => Number(/^<svg [^>]*height="([\d.]+)"/.exec(svg)?.[1]);
    const one = barChart({ ...barInput(), groups: [{ label: 'g', bars: [{ label: 'a', value: 1 }] }] });
    expect(height(barChart(barInput()))).toBeGreaterThan(height(one));
  });

  it('joins unit-like suffixes without a space and draws a dashed reference line at its value', () => {
    const groups = [
      {
        label: 'speed',
        bars: [
          { label: 'FP32', value: 1 },
          { label: 'INT8', value: 1.8449 },
        ],
      },
    ];
    const svg = barChart({ ...barInput('s'), unit: 'x', groups, reference: { value: 1, label: '1x = FP32 speed' } });
    expect(texts(svg, 'rfe-value')).toEqual(['1x', '1.84x']);
    const [line] = elements(svg, 'line', 'rfe-reference');
    expect(line?.attributes['stroke-dasharray']).toBeDefined();
    const fp32 = elements(svg, 'rect', 'rfe-bar')[0]!;
    expect(numberOf(line!, 'x1')).toBeCloseTo(numberOf(fp32, 'x') + numberOf(fp32, 'width'), 1);
    expect(texts(svg)).toContain('1x = FP32 speed');
  });

  it('in log scale, orders bar widths by value and draws zero or negative values as zero-length bars', () => {
    const values = [1e-7, 3e-5, 1e-4, 0.02, 1, 0, -1];
    const groups = [{ label: 'max |diff|', bars: values.map((value, i) => ({ label: `v${i}`, value })) }];
    const svg = barChart({ ...barInput('l'), unit: 'logit', groups, logScale: true });
    expectWellFormed(svg);
    const widths = elements(svg, 'rect', 'rfe-bar').map((bar) => numberOf(bar, 'width'));
    for (let i = 1; i < 5; i++) expect(widths[i]!).toBeGreaterThan(widths[i - 1]!);
    expect(widths[0]!).toBeGreaterThan(0);
    expect(widths.slice(5)).toEqual([0, 0]);
    expect(texts(svg, 'rfe-value')).toEqual([
      '1e-7 logit',
      '3e-5 logit',
      '1e-4 logit',
      '0.02 logit',
      '1 logit',
      '0 logit',
      '-1 logit',
    ]);
    const decades = elements(svg, 'text').filter((t) => t.attributes['text-anchor'] === 'middle');
    expect(decades.map((t) => t.content)).toEqual(['1e-8', '1e-6', '1e-4', '0.01', '1', 'logit (log scale)']);
  });

  it('skips null and non-finite values and prints n/a for them', () => {
    const bars = [
      { label: 'a', value: 2 },
      { label: 'b', value: null },
      { label: 'c', value: Number.NaN },
    ];
    const svg = barChart({ ...barInput(), groups: [{ label: 'g', bars }] });
    expectWellFormed(svg);
    expect(elements(svg, 'rect', 'rfe-bar')).toHaveLength(1);
    expect(texts(svg, 'rfe-missing')).toEqual(['n/a', 'n/a']);
  });
});

describe('scatterPlot', () => {
  const svg = scatterPlot(scatterInput('s'));
  const circles = elements(svg, 'circle', 'rfe-point-pass');
  const crosses = elements(svg, 'g', 'rfe-point-fail');
  const crossCentreY = (cross: Element): number => {
    const [first] = elements(cross.content, 'line');
    return (numberOf(first!, 'y1') + numberOf(first!, 'y2')) / 2;
  };

  it('draws passing points as circles and failing points as two-line crosses, with titles', () => {
    expect(circles).toHaveLength(3 + 1); // plus the legend's circle
    expect(crosses).toHaveLength(2 + 1);
    for (const cross of crosses) {
      expect(elements(cross.content, 'line')).toHaveLength(2);
      expect(cross.content).not.toContain('<circle');
    }
    expect(circles[0]!.content).toBe('<title>trial 3: MatMuls kept 4, agreement 98.5%, passed</title>');
    expect(crosses[0]!.content).toContain('<title>trial 1: MatMuls kept 0, agreement 95%, failed</title>');
    expect(texts(elements(svg, 'g', 'rfe-legend')[0]!.content)).toEqual(['passed', 'failed']);
  });

  it('places the dashed threshold line between failing and passing points', () => {
    const [line] = elements(svg, 'line', 'rfe-threshold');
    expect(line?.attributes['stroke-dasharray']).toBeDefined();
    const gateY = numberOf(line!, 'y1');
    for (const circle of circles.slice(0, 3)) expect(numberOf(circle, 'cy')).toBeLessThan(gateY);
    for (const cross of crosses.slice(0, 2)) expect(crossCentreY(cross)).toBeGreaterThan(gateY);
    expect(texts(svg)).toContain('gate 98%');
  });

  it('shows y as percent and orders positions by x and y', () => {
    const yTicks = elements(svg, 'text').filter(
      (t) => t.attributes['text-anchor'] === 'end' && t.content.endsWith('%'),
    );
    expect(yTicks.map((t) => t.content)).toContain('100%');
    const cx = circles.slice(0, 3).map((c) => numberOf(c, 'cx'));
    const cy = circles.slice(0, 3).map((c) => numberOf(c, 'cy'));
    expect(cx).toEqual([...cx].sort((a, b) => a - b));
    expect(cy).toEqual([...cy].sort((a, b) => b - a));
  });

  it('honours a given yDomain and clamps the default one to [0, 1]', () => {
    const low = scatterPlot({
      ...scatterInput(),
      threshold: undefined,
      points: [{ x: 1, y: 0, label: 'p', passed: true }],
    });
    expectWellFormed(low);
    expect(texts(low)).toContain('0%');
    expect(texts(low).some((t) => t.startsWith('-'))).toBe(false);
    const given = scatterPlot({ ...scatterInput(), yDomain: [0.5, 1] });
    expect(texts(given)).toContain('50%');
  });

  it('skips non-finite points and says how many', () => {
    const points = [...scatterInput().points, { x: Number.NaN, y: 0.99, label: 'bad', passed: true }];
    const out = scatterPlot({ ...scatterInput(), points });
    expectWellFormed(out);
    expect(elements(out, 'circle', 'rfe-point-pass')).toHaveLength(4);
    expect(texts(out, 'rfe-missing')).toEqual(['1 point n/a (non-finite values)']);
    const none = scatterPlot({
      ...scatterInput(),
      points: [{ x: 1, y: Number.POSITIVE_INFINITY, label: 'p', passed: true }],
    });
    expectWellFormed(none);
    expect(texts(none)).toEqual(['no data (1 point n/a (non-finite values))']);
  });
});

describe('heatMap', () => {
  const svg = heatMap(heatInput('m'));
  const cells = elements(svg, 'rect', 'rfe-cell');

  it('gives the max cell the darkest fill, zero cells white, and shades in value order', () => {
    const values = heatInput().cells.flat();
    const shades = cells.map((cell) => luminance(fillOf(cell)));
    const darkest = shades.indexOf(Math.min(...shades));
    expect(values[darkest]).toBe(Math.max(...values));
    values.forEach((value, i) => {
      if (value === 0) expect(fillOf(cells[i]!)).toBe('#ffffff');
      values.forEach((other, j) => {
        if (value < other) expect(shades[i]!).toBeGreaterThan(shades[j]!);
      });
    });
  });

  it('prints each value in its cell, white on dark cells and black on light ones', () => {
    const labels = elements(svg, 'text', 'rfe-cell-value');
    expect(labels.map((label) => label.content)).toEqual(['0', '3', '1', '2', '6', '0']);
    expect(labels[4]!.attributes.fill).toBe('#fff');
    expect(labels[0]!.attributes.fill).toBe('#000');
    expect(cells[4]!.content).toBe('<title>FFN up, 1: 6</title>');
  });

  it('labels rows, columns and both axes', () => {
    for (const label of ['attention q/k/v', 'FFN up', '0', '1', '2', 'kind', 'layer'])
      expect(texts(svg)).toContain(label);
  });

  it('refuses cells that do not match rows x columns', () => {
    expect(() => heatMap({ ...heatInput(), cells: [[1, 2, 3]] })).toThrow(/2 rows of 3 numbers/);
    expect(() =>
      heatMap({
        ...heatInput(),
        cells: [
          [1, 2, 3],
          [1, 2],
        ],
      }),
    ).toThrow(/2 rows of 3 numbers/);
  });

  it('prints n/a for non-finite cells and still scales the others', () => {
    const out = heatMap({
      ...heatInput(),
      cells: [
        [Number.NaN, 3, 1],
        [2, 6, Number.NEGATIVE_INFINITY],
      ],
    });
    expectWellFormed(out);
    expect(texts(out, 'rfe-missing')).toEqual(['n/a', 'n/a']);
    expect(texts(out, 'rfe-cell-value')).toEqual(['3', '1', '2', '6']);
  });
});

describe('chart size', () => {
  it('refuses a non-finite or tiny width', () => {
    expect(() => histogram({ ...histogramInput(), width: Number.NaN })).toThrow(/width/);
    expect(() => barChart({ ...barInput(), width: 10 })).toThrow(/width/);
    expect(() => scatterPlot({ ...scatterInput(), height: Number.POSITIVE_INFINITY })).toThrow(/height/);
  });
});
