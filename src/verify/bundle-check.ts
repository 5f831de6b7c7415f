import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles, sha256File } from '../bundle/checksums.js';
import { manifestSchema, variantGraphPaths, type Manifest } from '../config/manifest.js';
import { verificationSchema, type Verification } from '../config/verification.js';
import { MANIFEST_FILE, TOKENIZER_DIR, VERIFICATION_FILE } from '../plan/files.js';
import { describeFirstIssue } from '../config/zod-issues.js';
import { InputError } from '../errors.js';
import { describeText, findTokenMismatch } from '../tokenizer/parity.js';
import { TextTokenizer } from '../tokenizer/tokenizer.js';
import { evaluateGates, withMultiheadGates, type Gate } from './gates.js';
import type { ComparisonMetrics } from '../metrics/logits.js';
import { compareWithReference } from './parity.js';
import type { MultiheadGraphs } from './parity-plan.js';
import type { GateResult } from '../config/report.js';

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
  const manifestFile = join(dir, MANIFEST_FILE);
  const parsed = manifestSchema.safeParse(readJson(manifestFile, MANIFEST_FILE));
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
    else if (statSync(path).size !== file.size)
      problems.push(`${file.path} has ${statSync(path).size} bytes, the manifest says ${file.size}`);
    else if ((await sha256File(path)) !== file.sha256)
      problems.push(`${file.path} was altered (sha256 differs from the manifest)`);
  }
  for (const path of await listFiles(dir)) {
    const relative = path
      .slice(dir.length + 1)
      .split(/[\\/]/)
      .join('/');
    if (relative !== MANIFEST_FILE && !listed.has(relative)) problems.push(`${relative} is not in the manifest`);
  }
  if (problems.length > 0) {
    throw new InputError(
      `the bundle does not match its manifest: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`,
      {
        file: dir,
        code: 'BUNDLE_MISMATCH',
      },
    );
  }
  return manifest;
}

/** The bundle's tokenizer/ run in Node must give the stored (Python) input_ids and attention_mask of every sample. */
async function checkTokenizerParity(
  dir: string,
  verification: Verification,
  onProgress?: (line: string) => void,
): Promise<void> {
  const tokenizerDir = join(dir, TOKENIZER_DIR);
  const mismatch = await findTokenMismatch(
    TextTokenizer.load(tokenizerDir),
    verification.batches,
    verification.maxLength,
  );
  if (mismatch) {
    throw new InputError(
      `the tokenizer gives different tokens in Node than in Python for sample ${describeText(mismatch.index, mismatch.text)}: ${mismatch.detail}`,
      {
        file: tokenizerDir,
        code: 'TOKENIZER_MISMATCH',
      },
    );
  }
  const count = verification.batches.reduce((total, batch) => total + batch.texts.length, 0);
  onProgress?.(
    `tokenizer: ${count} sample texts tokenized in Node, input_ids and attention_mask identical to Python's`,
  );
}

/** The manifest's multihead graphs, which must cover exactly the bundle's tasks. */
function multiheadGraphs(dir: string, manifest: Manifest): MultiheadGraphs | undefined {
  const multihead = manifest.multihead;
  if (!multihead) return undefined;
  const tasks = manifest.tasks.map((entry) => entry.name).sort();
  if (JSON.stringify(Object.keys(multihead.outputs).sort()) !== JSON.stringify(tasks)) {
    throw new InputError(
      `manifest.json: the multihead graph's outputs (${Object.keys(multihead.outputs).join(', ')}) are not the bundle's tasks (${tasks.join(', ')})`,
      {
        file: join(dir, MANIFEST_FILE),
      },
    );
  }
  return { files: variantGraphPaths(dir, multihead), outputs: multihead.outputs };
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
  await checkTokenizerParity(dir, parsed.data, onProgress);
  const graphs = Object.fromEntries(
    manifest.tasks.map((entry) => [entry.name, variantGraphPaths(dir, entry) as Record<string, string>]),
  );
  for (const entry of manifest.tasks) {
    // own keys only: a task named "constructor" must not find Object's
    if (batches.some((batch) => !Object.hasOwn(batch.reference, entry.name))) {
      throw new InputError(`${VERIFICATION_FILE} has no reference logits for task "${entry.name}"`, {
        file: verificationFile,
      });
    }
  }
  const metrics = await compareWithReference(batches, graphs, {
    ...(onProgress ? { onProgress } : {}),
    multihead: multiheadGraphs(dir, manifest),
  });
  const tasks: BundleVerification['tasks'] = manifest.tasks.map((entry) => {
    const comparisons = metrics[entry.name] ?? {};
    const gates = evaluateGates(withMultiheadGates(gatesFor(entry.name, manifest)), comparisons);
    return { task: entry.name, comparisons, gates, passed: gates.every((gate) => gate.passed) };
  });
  return { manifest, tasks, passed: tasks.every((task) => task.passed) };
}
