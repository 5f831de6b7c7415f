import { basename } from 'node:path';
import { InputError } from '../errors.js';
import { quote } from './text.js';
import type { MergedSample, SampleRecord } from './types.js';

interface GivenLabel {
  label: string;
  fileIndex: number;
  location: string;
}

interface MergeEntry {
  source: string;
  labels: Map<string, GivenLabel>;
}

/**
 * Merges the records of several files (in order) by exact text. The same text with the same label, or
 * with a label for another task, merges; a different label for the same task is an InputError naming
 * both places (the file of the error is the later one).
 */
export function mergeSamples(files: ReadonlyArray<{ file: string; records: readonly SampleRecord[] }>): MergedSample[] {
  const names = displayNames(files.map(({ file }) => file));
  const merged = new Map<string, MergeEntry>();
  files.forEach(({ file, records }, fileIndex) => {
    for (const record of records) {
      let entry = merged.get(record.text);
      if (!entry) {
        entry = { source: `${names[fileIndex]} ${record.location}`, labels: new Map() };
        merged.set(record.text, entry);
      }
      for (const [task, label] of Object.entries(record.labels)) {
        const earlier = entry.labels.get(task);
        if (!earlier) entry.labels.set(task, { label, fileIndex, location: record.location });
        else if (earlier.label !== label) {
          const where =
            earlier.fileIndex === fileIndex ? earlier.location : `${earlier.location} of ${names[earlier.fileIndex]}`;
          throw new InputError(
            `${record.location}: task ${quote(task)} label ${quote(label)} contradicts ${where}, which gives ${quote(earlier.label)}`,
            { file },
          );
        }
      }
    }
  });
  return [...merged].map(([text, entry]) => ({
    text,
    labels: Object.fromEntries([...entry.labels].map(([task, given]) => [task, given.label])),
    source: entry.source,
  }));
}

/** Each file by its base name, or by its whole path where two different files share a base name. */
function displayNames(files: readonly string[]): string[] {
  const pathsByName = new Map<string, Set<string>>();
  for (const file of files) {
    const name = basename(file);
    pathsByName.set(name, (pathsByName.get(name) ?? new Set()).add(file));
  }
  return files.map((file) => (pathsByName.get(basename(file))!.size > 1 ? file : basename(file)));
}
