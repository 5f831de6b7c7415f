import { InputError } from '../errors.js';

/** Decodes strictly; drops a UTF-8 byte order mark at the start. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of the file; invalid UTF-8 is an error naming the (1-based) line of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new InputError(`line ${firstBadUtf8Line(bytes)} is not valid UTF-8`, { file });
  }
}

/** A byte sequence cannot span a \n (0x0a is never a continuation byte), so lines can be checked one by one. */
function firstBadUtf8Line(bytes: Uint8Array): number {
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    try {
      strictUtf8.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    start = end + 1;
    line += 1;
  }
  return line;
}

/** The lines of a text: split on \n, a \r before it dropped (CRLF and LF give the same lines). */
export function splitLines(text: string): string[] {
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** Offsets (UTF-16 code units) to 1-based line numbers. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.starts.push(at + 1);
  }

  lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.starts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }
}

/** A name or value in double quotes, escaped so that the message stays on one line, cut after 60 characters. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** "sports, travel, ..." : at most `max` names, names with commas or control characters quoted. */
export function formatList(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).map((name) => (/[\u0000-\u001f,"]|^\s|\s$|^$/.test(name) ? quote(name) : name));
  return names.length > max ? `${shown.join(', ')}, ...` : shown.join(', ');
}

/** What a parsed JSON value is, for messages: "the number 3", "null", "an array". */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
