import { readTextsFile } from '../predict/input-file.js';

/** The texts of one or more samples files, labels ignored (quantize's calibration texts). */
export async function readSampleTexts(files: readonly string[]): Promise<{ source: string; texts: string[] }> {
  const texts: string[] = [];
  for (const file of files) texts.push(...(await readTextsFile(file)));
  return { source: files.join(', '), texts };
}
