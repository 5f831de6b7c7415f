/**
 * An RFC 4180 parser for CSV and TSV: fields in double quotes may hold the delimiter, newlines and
 * quotes (written ""); rows end with LF or CRLF. A quote inside an unquoted field is an ordinary
 * character (TSV files often carry them unquoted). Linear in the text: fields are slices, never built
 * character by character.
 */

export interface CsvRow {
  /** The physical (1-based) line the row starts on. */
  line: number;
  fields: string[];
}

/** A syntax error in the row starting on `line`. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** The rows of the text; blank lines (nothing, or only spaces, outside quotes) are skipped. */
export function parseDelimited(text: string, delimiter: ',' | '\t'): CsvRow[] {
  const reader = new FieldReader(text, delimiter.charCodeAt(0));
  const rows: CsvRow[] = [];
  while (reader.position < text.length) {
    const line = reader.line;
    const { fields, quoted } = reader.readRow();
    const blank = fields.length === 1 && !quoted && fields[0]!.trim() === '';
    if (!blank) rows.push({ line, fields });
  }
  return rows;
}

class FieldReader {
  position = 0;
  line = 1;

  constructor(
    private readonly text: string,
    private readonly delimiter: number,
  ) {}

  /** Reads one row and the row terminator after it. */
  readRow(): { fields: string[]; quoted: boolean } {
    const rowLine = this.line;
    const fields: string[] = [];
    let quoted = false;
    for (;;) {
      if (this.text.charCodeAt(this.position) === QUOTE) {
        quoted = true;
        fields.push(this.readQuoted(rowLine, fields.length + 1));
      } else {
        fields.push(this.readUnquoted());
      }
      if (this.position >= this.text.length) return { fields, quoted };
      const next = this.text.charCodeAt(this.position);
      this.position += 1;
      if (next === LF) {
        this.line += 1;
        return { fields, quoted };
      }
      // else the delimiter: another field follows (an empty one at the end of the text)
    }
  }

  /** Up to the delimiter or the end of the line; a \r before the \n is dropped. */
  private readUnquoted(): string {
    const { text, delimiter } = this;
    const start = this.position;
    let end = start;
    while (end < text.length) {
      const code = text.charCodeAt(end);
      if (code === delimiter || code === LF) break;
      end += 1;
    }
    this.position = end;
    const stop = end > start && text.charCodeAt(end - 1) === CR && text.charCodeAt(end) !== delimiter ? end - 1 : end;
    return text.slice(start, stop);
  }

  /** From the opening quote to the closing one; after it, only a delimiter, a line end or the end of the text. */
  private readQuoted(rowLine: number, fieldNumber: number): string {
    const { text } = this;
    const pieces: string[] = [];
    let from = this.position + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote === -1) throw new CsvSyntaxError(rowLine, `unterminated quoted field (field ${fieldNumber})`);
      this.countNewlines(from, quote);
      if (text.charCodeAt(quote + 1) === QUOTE) {
        pieces.push(text.slice(from, quote + 1));
        from = quote + 2;
        continue;
      }
      pieces.push(text.slice(from, quote));
      this.position = quote + 1;
      break;
    }
    if (text.charCodeAt(this.position) === CR && text.charCodeAt(this.position + 1) === LF) this.position += 1;
    const after = text.charCodeAt(this.position);
    if (this.position < text.length && after !== this.delimiter && after !== LF)
      throw new CsvSyntaxError(
        rowLine,
        `field ${fieldNumber} has text after its closing quote (a quote inside a quoted field is written "")`,
      );
    return pieces.length === 1 ? pieces[0]! : pieces.join('');
  }

  private countNewlines(from: number, to: number): void {
    for (let at = from; at < to; at += 1) if (this.text.charCodeAt(at) === LF) this.line += 1;
  }
}
