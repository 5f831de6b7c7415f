import { basename, join } from 'node:path';
import { convertToFp16 } from '../../convert/fp16.js';
import { toolVersion } from '../../environment.js';
import { readOnnx, type ExternalDataMode } from '../../onnx/model-file.js';
import { MULTIHEAD_STEM } from '../../plan/files.js';
import { variantGraphFile } from '../../plan/variants.js';
import type { GraphFile, Step } from '../context.js';
import { externalDataMode } from './export-fp32.js';
import { graphBytes } from './sizes.js';

async function writeFp16(fp32: GraphFile, out: string, externalData: ExternalDataMode): Promise<GraphFile> {
  const result = await convertToFp16(await readOnnx(fp32.file), out, { externalData, producerVersion: toolVersion() });
  return { file: result.file, ...(result.dataFile ? { weights: basename(result.dataFile) } : {}) };
}

/** <task>_fp16.onnx (and multihead_fp16.onnx) from each FP32 graph: float16 weights and compute, float32 inputs and outputs. */
export const convertFp16: Step = {
  title: 'Convert to FP16',
  timing: 'fp16',
  enabled: (c) => c.options.fp16,
  async run(c, task) {
    const shares: string[] = [];
    for (const name of c.tasks) {
      task.output = `writing ${variantGraphFile(name, 'fp16')}`;
      const fp32 = c.graphs[name]!.fp32!;
      const fp16 = await writeFp16(fp32, join(c.staging!, variantGraphFile(name, 'fp16')), externalDataMode(c));
      c.graphs[name]!.fp16 = fp16;
      shares.push(`${((graphBytes(fp16) / graphBytes(fp32)) * 100).toFixed(0)}%`);
    }
    if (c.multihead?.fp32) {
      task.output = `writing ${variantGraphFile(MULTIHEAD_STEM, 'fp16')}`;
      c.multihead.fp16 = await writeFp16(
        c.multihead.fp32,
        join(c.staging!, variantGraphFile(MULTIHEAD_STEM, 'fp16')),
        externalDataMode(c),
      );
    }
    task.title = `Convert to FP16: ${c.tasks.length + (c.multihead?.fp16 ? 1 : 0)} graph(s), ${shares.join(', ')} of FP32 size`;
  },
};
