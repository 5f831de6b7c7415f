import { z } from 'zod';

export const manifestFileSchema = z.object({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});

export const manifestSchema = z.object({
  schema: z.literal('rapidfit-export/manifest'),
  schemaVersion: z.literal(1),
  createdAt: z.string(),
  verified: z.boolean(),
  tool: z.object({ name: z.string(), version: z.string() }),
  source: z.object({ modelDir: z.string(), format: z.string() }),
  tasks: z.array(
    z.object({
      name: z.string(),
      fp32: z.string(),
      config: z.string(),
      weights: z.string().optional(),
      int8: z.string().optional(),
      int8Weights: z.string().optional(),
      numLabels: z.number().int(),
    }),
  ),
  options: z.record(z.string(), z.unknown()),
  bridge: z.object({ lockSha256: z.string(), versions: z.record(z.string(), z.string().nullable()) }),
  runtime: z.record(z.string(), z.unknown()),
  files: z.array(manifestFileSchema),
});
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;
