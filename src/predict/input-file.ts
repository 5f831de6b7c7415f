import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Splits on \n (dropping a \r before it) and decodes each line on its own, so a bad byte is named by its line. */
function decodeLines(bytes: Uint8Array, file: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const stop = end > start && bytes[end - 1] === 0x0d ? end - 1 : end;
    try {
      // the decoder drops a UTF-8 byte order mark at the start of the file
      lines.push(decoder.decode(bytes.subarray(start, stop)));
    } catch {
      throw new InputError(`line ${lines.length + 1} is not valid UTF-8`, { file });
    }
    start = end + 1;
  }
  return lines;
}

/**
 * The texts of a --file: .jsonl (or .ndjson) has one JSON object with a "text" string per line;
 * anything else is plain text, one text per line. Blank lines are skipped; line numbers count them.
 */
export function parseTextsFile(file: string, bytes: Uint8Array): string[] {
  const jsonl = /\.(jsonl|ndjson)$/i.test(file);
  const texts: string[] = [];
  decodeLines(bytes, file).forEach((line, index) => {
    if (line.trim() === '') return;
    if (!jsonl) {
      texts.push(line);
      return;
    }
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      throw new InputError(`line ${index + 1} is not JSON`, { file });
    }
    const text =
      entry && typeof entry === 'object' && !Array.isArray(entry) ? (entry as { text?: unknown }).text : undefined;
    if (typeof text !== 'string') throw new InputError(`line ${index + 1} has no "text" string`, { file });
    texts.push(text);
  });
  if (texts.length === 0)
    throw new InputError(`the file has no texts (it is empty${jsonl ? '' : ' or has only blank lines'})`, { file });
  return texts;
}

export async function readTextsFile(path: string): Promise<string[]> {
  const file = resolve(path);
  const bytes = await readFile(file).catch((error: unknown) => {
    const { code, message } = error as NodeJS.ErrnoException; // readFile rejects with an errno error
    throw new InputError(
      code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? message})`,
      { file },
    );
  });
  return parseTextsFile(file, bytes);
}
