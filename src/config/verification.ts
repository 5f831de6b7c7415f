import { z } from 'zod';

/** verification.json: the verification inputs (token ids per batch) and PyTorch's logits, so `verify` re-checks a bundle without Python. */
export const verificationSchema = z.object({
  schema: z.literal('rapidfit-export/verification'),
  schemaVersion: z.literal(1),
  maxLength: z.number().int(),
  batches: z.array(
    z.object({
      firstIndex: z.number().int(),
      /** Absent in bundles written before splits existed: judged. */
      split: z.enum(['calibration', 'judged', 'embedded']).optional(),
      texts: z.array(z.string()),
      /** Per text: task -> gold label id (null: none); absent when the batch has no labels. */
      gold: z.array(z.record(z.string(), z.number().int()).nullable()).optional(),
      inputIds: z.array(z.array(z.number().int())),
      attentionMask: z.array(z.array(z.number().int())),
      /** task -> PyTorch logits [rows][labels] */
      reference: z.record(z.string(), z.array(z.array(z.number()))),
    }),
  ),
});
export type Verification = z.infer<typeof verificationSchema>;
export type StoredBatch = Verification['batches'][number];
