import { byInputName, INPUT_NAMES } from '../plan/model-io.js';
import { batchRow } from './padding.js';
import type { TextTokenizer } from './tokenizer.js';

/** A batch tokenized by the Python tokenizer (as verification.json stores it). */
export interface ReferenceTokens {
  texts: readonly string[];
  inputIds: readonly (readonly number[])[];
  attentionMask: readonly (readonly number[])[];
  /** Index of the batch's first text in the whole sample set (for messages). */
  firstIndex?: number;
}

export interface TokenMismatch {
  /** Index of the text in the whole sample set. */
  index: number;
  text: string;
  detail: string;
}

function firstDifference(expected: readonly number[], actual: readonly number[]): string | undefined {
  const length = Math.max(expected.length, actual.length);
  for (let position = 0; position < length; position += 1) {
    if (expected[position] !== actual[position]) {
      const show = (value: number | undefined) => (value === undefined ? 'absent' : String(value));
      return `position ${position} is ${show(expected[position])} in Python, ${show(actual[position])} in Node (${expected.length} vs ${actual.length} values)`;
    }
  }
  return undefined;
}

/**
 * Tokenizes each reference batch in Node and returns the first text whose input_ids or attention_mask
 * differ from the Python tokenizer's: first the tokens themselves (padding stripped), then the padded
 * rows (pad id, padding side, batch width).
 */
export async function findTokenMismatch(
  tokenizer: TextTokenizer,
  batches: readonly ReferenceTokens[],
  maxLength: number,
): Promise<TokenMismatch | undefined> {
  for (const batch of batches) {
    const first = batch.firstIndex ?? 0;
    const tokens = await tokenizer.tokenize(batch.texts, maxLength);
    for (const [row, text] of batch.texts.entries()) {
      const mask = batch.attentionMask[row] ?? [];
      const expected = (batch.inputIds[row] ?? []).filter((_, column) => mask[column] === 1);
      const detail = firstDifference(expected, tokens[row] ?? []);
      if (detail) return { index: first + row, text, detail: `${INPUT_NAMES[0]} differ: ${detail}` };
    }
    const padded = tokenizer.pad(tokens);
    for (const [row, text] of batch.texts.entries()) {
      const actuals = byInputName(padded);
      for (const [name, expected] of Object.entries(
        byInputName({ inputIds: batch.inputIds[row] ?? [], attentionMask: batch.attentionMask[row] ?? [] }),
      )) {
        const actual = actuals[name as keyof typeof actuals];
        const detail = firstDifference(expected, batchRow(actual, padded.width, row));
        if (detail) return { index: first + row, text, detail: `padded ${name} differ: ${detail}` };
      }
    }
  }
  return undefined;
}

/** `#12 "the text…"`: a text as it is named in messages, shortened and with control characters escaped. */
export function describeText(index: number, text: string): string {
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
  return `#${index} ${shown}`;
}
