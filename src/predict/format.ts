import type { TextPredictions } from './bundle.js';

/** --json: one line per text, {"text", "predictions": {task: {label, confidence}}}. */
export function jsonLine(text: string, predictions: TextPredictions): string {
  return JSON.stringify({ text, predictions });
}

/** Terminal columns of one code point: 0 for marks and zero-width characters, 2 for East Asian wide ones and emoji. */
function columns(char: string): number {
  const code = char.codePointAt(0)!;
  if (/\p{M}/u.test(char) || (code >= 0x200b && code <= 0x200f) || code === 0x2060 || code === 0xfeff) return 0;
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}

function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += columns(char);
  return width;
}

/** A text shortened to one line of at most `width` columns (whitespace and control characters shown as spaces). */
function oneLine(text: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  if (displayWidth(flat) <= width) return flat;
  let out = '';
  let used = 0;
  for (const char of flat) {
    if (used + columns(char) > width - 1) break;
    out += char;
    used += columns(char);
  }
  return `${out}…`;
}

function pad(cell: string, width: number): string {
  return cell + ' '.repeat(Math.max(0, width - displayWidth(cell)));
}

/** The readable table: one row per text, one column per task with "label (confidence)". */
export function predictionTable(
  texts: readonly string[],
  predictions: readonly TextPredictions[],
  tasks: readonly string[],
  textWidth = 50,
): string {
  const header = ['#', 'text', ...tasks];
  const rows = texts.map((text, index) => [
    String(index + 1),
    oneLine(text, textWidth),
    ...tasks.map((task) => {
      const prediction = predictions[index]?.[task];
      return prediction ? `${prediction.label} (${prediction.confidence.toFixed(3)})` : '';
    }),
  ]);
  const widths = header.map((cell, column) =>
    Math.max(displayWidth(cell), ...rows.map((row) => displayWidth(row[column]!))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => pad(cell, widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
