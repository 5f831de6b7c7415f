import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export type Side = 'left' | 'right';

/**
 * What transformers reads from tokenizer_config.json (and special_tokens_map.json) rather than from
 * tokenizer.json when it is called as tokenizer(texts, padding=True, truncation=True, max_length=L):
 * the pad token and the padding and truncation sides.
 */
export interface TokenizerSettings {
  padToken: string | undefined;
  paddingSide: Side;
  truncationSide: Side;
  /** model_max_length, when the config gives a real one (transformers writes a huge sentinel when unknown). */
  modelMaxLength: number | undefined;
}

function readJson(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`the tokenizer file does not parse: ${(error as Error).message.split('\n')[0]}`, { file });
  }
}

/** A special token is either a string or an AddedToken object ({"content": ...}). */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return undefined;
}

function side(value: unknown, key: string, file: string): Side {
  if (value === undefined || value === null) return 'right';
  if (value === 'left' || value === 'right') return value;
  throw new InputError(`${key} must be "left" or "right", got ${JSON.stringify(value)}`, { file });
}

export function readTokenizerSettings(dir: string): TokenizerSettings {
  const configFile = join(dir, 'tokenizer_config.json');
  const config = readJson(configFile);
  const specialTokens = readJson(join(dir, 'special_tokens_map.json'));
  return {
    padToken: tokenContent(config.pad_token) ?? tokenContent(specialTokens.pad_token),
    paddingSide: side(config.padding_side, 'padding_side', configFile),
    truncationSide: side(config.truncation_side, 'truncation_side', configFile),
    modelMaxLength:
      typeof config.model_max_length === 'number' &&
      Number.isInteger(config.model_max_length) &&
      config.model_max_length < 1e9
        ? config.model_max_length
        : undefined,
  };
}
