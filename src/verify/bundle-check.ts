import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { listFiles, sha256File } from '../bundle/checksums.js';
import { manifestSchema, type Manifest } from '../config/manifest.js';
import { describeFirstIssue } from '../config/options.js';
import { InputError } from '../errors.js';
import { evaluateGates, type Gate } from './gates.js';
import { LogitsComparison, type ComparisonMetrics } from './metrics.js';
import { ClassifierSession } from './onnx-session.js';
import type { GateResult } from '../config/report.js';

export const VERIFICATION_FILE = 'verification.json';

const verificationSchema = z.object({
  schema: z.literal('rapidfit-export/verification'),
  schemaVersion: z.literal(1),
  maxLength: z.number().int(),
  batches: z.array(
    z.object({
      firstIndex: z.number().int(),
      texts: z.array(z.string()),
      inputIds: z.array(z.array(z.number().int())),
      attentionMask: z.array(z.array(z.number().int())),
      reference: z.record(z.string(), z.array(z.array(z.number()))),
    }),
  ),
});

function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) throw new InputError(`the bundle has no ${what}`, { file });
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${what} does not parse: ${(error as Error).message}`, { file });
  }
}

/** Checks every file against the manifest: none missing, none extra, sizes and sha256 equal. */
export async function checkBundleFiles(dir: string): Promise<Manifest> {
  const manifestFile = join(dir, 'manifest.json');
  const parsed = manifestSchema.safeParse(readJson(manifestFile, 'manifest.json'));
  if (!parsed.success) {
    throw new InputError(`manifest.json is not a rapidfit-export manifest (${describeFirstIssue(parsed.error)})`, {
      file: manifestFile,
    });
  }
  const manifest = parsed.data;
  const problems: string[] = [];
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const file of manifest.files) {
    const path = join(dir, ...file.path.split('/'));
    if (!existsSync(path)) problems.push(`${file.path} is missing`);
    else if (statSync(path).size !== file.size) problems.push(`${file.path} has ${statSync(path).size} bytes, the manifest says ${file.size}`);
    else if ((await sha256File(path)) !== file.sha256) problems.push(`${file.path} was altered (sha256 differs from the manifest)`);
  }
  for (const path of await listFiles(dir)) {
    const relative = path.slice(dir.length + 1).split(/[\\/]/).join('/');
    if (relative !== 'manifest.json' && !listed.has(relative)) problems.push(`${relative} is not in the manifest`);
  }
  if (problems.length > 0) {
    throw new InputError(`the bundle does not match its manifest: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, {
      file: dir,
      code: 'BUNDLE_MISMATCH',
    });
  }
  return manifest;
}

export interface BundleVerification {
  manifest: Manifest;
  tasks: Array<{ task: string; comparisons: Record<string, ComparisonMetrics>; gates: GateResult[]; passed: boolean }>;
  passed: boolean;
}

/**
 * What a deploy job runs on the target machine, without Python: checksums, then every graph loaded in
 * onnxruntime-node and run on the stored samples, compared with the stored PyTorch logits at the gates
 * the bundle was built with.
 */
export async function verifyBundle(
  dir: string,
  gatesFor: (task: string, manifest: Manifest) => Gate[],
  onProgress?: (line: string) => void,
): Promise<BundleVerification> {
  const manifest = await checkBundleFiles(dir);
  const verificationFile = join(dir, VERIFICATION_FILE);
  const parsed = verificationSchema.safeParse(readJson(verificationFile, VERIFICATION_FILE));
  if (!parsed.success) throw new InputError(`${VERIFICATION_FILE} is malformed`, { file: verificationFile });
  const batches = parsed.data.batches;
  const tasks: BundleVerification['tasks'] = [];
  for (const entry of manifest.tasks) {
    const comparisons: Record<string, ComparisonMetrics> = {};
    for (const [kind, file] of [
      ['fp32', entry.fp32],
      ['int8', entry.int8],
    ] as const) {
      if (!file) continue;
      onProgress?.(`${entry.name}: ${kind} (${file})`);
      const session = await ClassifierSession.open(join(dir, file));
      const comparison = new LogitsComparison();
      try {
        for (const batch of batches) {
          const shape = [batch.inputIds.length, batch.inputIds[0]?.length ?? 0];
          const toTensor = (values: number[][]) => ({ dtype: 'int64' as const, shape, data: BigInt64Array.from(values.flat().map(BigInt)) });
          const actual = await session.run({ inputIds: toTensor(batch.inputIds), attentionMask: toTensor(batch.attentionMask) });
          const reference = batch.reference[entry.name];
          if (!reference) throw new InputError(`${VERIFICATION_FILE} has no reference logits for task "${entry.name}"`, { file: verificationFile });
          comparison.add({ rows: reference.length, labels: reference[0]?.length ?? 0, data: Float32Array.from(reference.flat()) }, actual, batch.texts, batch.firstIndex);
        }
      } finally {
        await session.release();
      }
      comparisons[kind] = comparison.result();
    }
    const gates = evaluateGates(gatesFor(entry.name, manifest), comparisons);
    tasks.push({ task: entry.name, comparisons, gates, passed: gates.every((gate) => gate.passed) });
  }
  return { manifest, tasks, passed: tasks.every((task) => task.passed) };
}
