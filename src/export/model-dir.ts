import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';

export type ModelFormat = 'rapidfit' | 'hf-sequence-classification';

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Fast checks on the input directory before any Python starts: which format it is and that the
 * files that format needs are there.
 */
export function checkModelDir(modelDir: string): { dir: string; format: ModelFormat } {
  const dir = resolve(modelDir);
  if (!existsSync(dir)) throw new InputError('the model directory does not exist', { file: dir });
  if (!isDir(dir)) throw new InputError('the model path is not a directory', { file: dir });
  const heads = join(dir, 'task_heads.pt');
  const encoder = join(dir, 'encoder');
  if (existsSync(heads) || existsSync(encoder)) {
    if (!isFile(heads)) {
      throw new InputError('a RapidFit model needs task_heads.pt beside encoder/; it is missing', {
        file: heads,
        hint: 'save the model with MultiheadClassifier.save(dir)',
      });
    }
    if (!isDir(encoder)) {
      throw new InputError('a RapidFit model needs an encoder/ directory beside task_heads.pt; it is missing', {
        file: encoder,
        hint: 'save the model with MultiheadClassifier.save(dir)',
      });
    }
    if (!isFile(join(encoder, 'config.json'))) {
      throw new InputError('the encoder has no config.json', { file: join(encoder, 'config.json') });
    }
    const weights = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'];
    if (!weights.some((name) => isFile(join(encoder, name)))) {
      throw new InputError('the encoder has no weights (model.safetensors)', { file: encoder });
    }
    return { dir, format: 'rapidfit' };
  }
  if (isFile(join(dir, 'config.json'))) return { dir, format: 'hf-sequence-classification' };
  throw new InputError(
    'not a model directory: expected encoder/ and task_heads.pt (RapidFit) or config.json (Hugging Face)',
    { file: dir },
  );
}
