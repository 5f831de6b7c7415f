import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { variantFiles, type Manifest } from '../config/manifest.js';
import { verificationSchema, type Verification } from '../config/verification.js';
import { InputError } from '../errors.js';
import { MANIFEST_FILE, TOKENIZER_DIR, VERIFICATION_FILE } from '../plan/files.js';
import { VARIANTS, type Variant } from '../plan/variants.js';
import { readBundleMultihead, readBundleTasks, type BundleMultihead, type BundleTask } from '../predict/task-files.js';
import { TextTokenizer } from '../tokenizer/tokenizer.js';
import { checkBundleFiles } from '../verify/bundle-check.js';

/** One side of a comparison: a bundle whose files match its manifest, with its tasks, tokenizer and stored texts. */
export interface ComparedBundle {
  dir: string;
  /** "old" or "new": how messages name it. */
  role: string;
  manifest: Manifest;
  tasks: BundleTask[];
  multihead: BundleMultihead | undefined;
  tokenizer: TextTokenizer;
  /** sha256 of tokenizer/tokenizer.json (from the manifest): tells whether two bundles tokenize alike. */
  tokenizerSha256: string | undefined;
  verification: Verification | undefined;
}

function notABundle(dir: string, role: string, why: string): InputError {
  return new InputError(`the ${role} bundle is not a rapidfit-export bundle: ${why}`, { file: dir });
}

function readVerification(dir: string): Verification | undefined {
  const file = join(dir, VERIFICATION_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = verificationSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new InputError(`${VERIFICATION_FILE} is malformed`, { file });
  return parsed.data;
}

/**
 * Opens a bundle for `compare`: a directory with manifest.json whose every file matches it (the
 * checksum check `verify` and `predict` run), else exit 2 before any graph runs.
 */
export async function openComparedBundle(path: string, role: string): Promise<ComparedBundle> {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new InputError(`the ${role} bundle directory does not exist`, { file: dir });
  if (!statSync(dir).isDirectory()) throw notABundle(dir, role, 'it is a file, not a directory');
  if (!existsSync(join(dir, MANIFEST_FILE))) throw notABundle(dir, role, `it has no ${MANIFEST_FILE}`);
  const manifest = await checkBundleFiles(dir);
  const tokenizerDir = join(dir, TOKENIZER_DIR);
  const tokenizerEntry = manifest.files.find((file) => file.path === `${TOKENIZER_DIR}/tokenizer.json`);
  return {
    dir,
    role,
    manifest,
    tasks: readBundleTasks(dir, manifest),
    multihead: readBundleMultihead(dir, manifest),
    tokenizer: TextTokenizer.load(tokenizerDir),
    tokenizerSha256: tokenizerEntry?.sha256,
    verification: readVerification(dir),
  };
}

/** The variants a task of a bundle has graphs of. */
export function taskVariants(bundle: ComparedBundle, task: string): Variant[] {
  const entry = bundle.manifest.tasks.find((candidate) => candidate.name === task);
  return entry ? VARIANTS.filter((variant) => variantFiles(entry, variant) !== undefined) : [];
}

/** Bytes of the files a task's graph of one variant needs (graph + external weights). */
export function graphBytes(bundle: ComparedBundle, task: string, variant: Variant): number {
  const entry = bundle.manifest.tasks.find((candidate) => candidate.name === task);
  const files = entry ? variantFiles(entry, variant) : undefined;
  if (!files) return 0;
  const sizes = new Map(bundle.manifest.files.map((file) => [file.path, file.size]));
  return [files.graph, files.weights].reduce((sum, path) => sum + (path ? (sizes.get(path) ?? 0) : 0), 0);
}
