import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer, type TruncationStrategy } from 'tokenizers';
import { InputError } from '../errors.js';
import { padBatch, type EncodedBatch } from './padding.js';
import { readTokenizerSettings, type TokenizerSettings } from './settings.js';

const TOKENIZER_FILE = 'tokenizer.json';

/**
 * A saved Hugging Face tokenizer (tokenizer.json, run by Hugging Face's Rust `tokenizers`, the same
 * code transformers' fast tokenizers run) that gives what the Python call
 * `tokenizer(texts, padding=True, truncation=True, max_length=L, return_tensors="np")` gives for
 * input_ids and attention_mask: special tokens added, truncated to L tokens including them on the
 * configured side, padded to the longest row with the pad token on the configured side.
 */
export class TextTokenizer {
  private truncation: number | undefined;
  private specialTokens: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly tokenizer: Tokenizer,
    readonly settings: TokenizerSettings,
    readonly padId: number,
  ) {}

  static load(dir: string): TextTokenizer {
    const file = join(dir, TOKENIZER_FILE);
    if (!existsSync(file))
      throw new InputError(
        `no ${TOKENIZER_FILE}, so the tokenizer cannot run in Node (a bundle keeps it in tokenizer/: re-export the model)`,
        { file: dir },
      );
    let tokenizer: Tokenizer;
    try {
      tokenizer = Tokenizer.fromFile(file);
    } catch (error) {
      throw new InputError(`the tokenizer cannot be loaded: ${(error as Error).message.split('\n')[0]}`, { file });
    }
    const settings = readTokenizerSettings(dir);
    if (settings.padToken === undefined)
      throw new InputError('the tokenizer has no pad token, so batches cannot be padded', {
        file: join(dir, 'tokenizer_config.json'),
      });
    const padId = tokenizer.tokenToId(settings.padToken);
    if (padId === null || padId === undefined)
      throw new InputError(`the pad token ${JSON.stringify(settings.padToken)} is not in the vocabulary`, { file });
    // the file may carry a fixed padding length from training; padding is done per batch here
    tokenizer.disablePadding();
    return new TextTokenizer(dir, tokenizer, settings, padId);
  }

  /** How many special tokens the tokenizer adds to one text ([CLS] and [SEP]: 2). Changes the truncation state. */
  private async specialTokenCount(): Promise<number> {
    this.tokenizer.disableTruncation();
    this.truncation = undefined;
    const [withSpecial, without] = await Promise.all([
      this.tokenizer.encode('', null, { addSpecialTokens: true }),
      this.tokenizer.encode('', null, { addSpecialTokens: false }),
    ]);
    return withSpecial.getIds().length - without.getIds().length;
  }

  /**
   * Token ids per text, with special tokens, truncated to maxLength, not padded. Calls run one at a
   * time: the truncation length is tokenizer state, read when the native encoding runs.
   */
  tokenize(texts: readonly string[], maxLength: number): Promise<number[][]> {
    const result = this.queue.then(() => this.tokenizeNow(texts, maxLength));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async tokenizeNow(texts: readonly string[], maxLength: number): Promise<number[][]> {
    if (!Number.isInteger(maxLength) || maxLength < 1)
      throw new InputError(`max length must be a positive integer, got ${maxLength}`);
    if (this.truncation !== maxLength) {
      // below the special tokens' count, transformers does not truncate at all and Node's binding does:
      // refused rather than tokenized differently
      const special = (this.specialTokens ??= await this.specialTokenCount());
      if (maxLength < special)
        throw new InputError(
          `max length ${maxLength} is shorter than the ${special} special tokens the tokenizer adds to every text`,
          { file: this.dir },
        );
      this.tokenizer.setTruncation(maxLength, {
        strategy: 'LongestFirst' as TruncationStrategy,
        direction: this.settings.truncationSide,
        stride: 0,
      });
      this.truncation = maxLength;
    }
    if (texts.length === 0) return [];
    const encodings = await this.tokenizer.encodeBatch([...texts], { addSpecialTokens: true });
    return encodings.map((encoding) => encoding.getIds());
  }

  /** Pads already tokenized rows into one batch. */
  pad(sequences: readonly (readonly number[])[]): EncodedBatch {
    return padBatch(sequences, this.padId, this.settings.paddingSide);
  }

  /** tokenize + pad: one batch, as the Python call above returns it. */
  async encode(texts: readonly string[], maxLength: number): Promise<EncodedBatch> {
    return this.pad(await this.tokenize(texts, maxLength));
  }
}
