import { z } from 'zod';
import { InputError } from '../errors.js';
import { DEFAULT_QUANTIZE_OPTIONS, quantizeOptionsSchema, type QuantizeOptions } from '../quantize/options.js';

/** Validates a library caller's options: the first problems as one InputError ("field: problem"). */
export function parseOptions<T>(schema: z.ZodType<T>, candidate: unknown, what: string): T {
  const parsed = schema.safeParse(candidate);
  if (!parsed.success)
    throw new InputError(
      `${what}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** The quantizer's options: the defaults (ORT's quantize_dynamic) with the caller's changes. */
export function resolveQuantizeOptions(changes: Partial<QuantizeOptions> = {}): QuantizeOptions {
  return parseOptions(quantizeOptionsSchema, { ...DEFAULT_QUANTIZE_OPTIONS, ...changes }, 'quantization options');
}
