import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/config/model-spec.js';
import { encodeModel } from '../../src/onnx/proto.js';
import { checkTaskFiles } from '../../src/verify/config-check.js';
import { floatTensor, matmulModel } from '../helpers/onnx-models.js';
import { scratchDir } from '../helpers/cli.js';

const spec = {
  pooling: 'mean',
  tasks: [
    {
      name: 'spam',
      numLabels: 2,
      id2label: { '0': 'ham', '1': 'spam' },
      label2id: { ham: 0, spam: 1 },
      headLayers: [[2, 4]],
      parameterCount: 10,
    },
  ],
} as unknown as ModelSpec;

function config(overrides: Record<string, unknown> = {}) {
  return {
    id2label: { '0': 'ham', '1': 'spam' },
    label2id: { ham: 0, spam: 1 },
    task: 'spam',
    num_labels: 2,
    max_length: 128,
    pooling: 'mean',
    input_names: ['input_ids', 'attention_mask'],
    output_name: 'logits',
    dynamic_axes: {},
    format: 'rapidfit',
    ...overrides,
  };
}

describe('per-task config and graph checks', () => {
  it('reports every way a config or graph can disagree with the model', async () => {
    const dir = scratchDir('rfe-config-');
    writeFileSync(
      join(dir, 'spam_config.json'),
      JSON.stringify(config({ label2id: { ham: 1, spam: 0 }, pooling: 'cls', max_length: 64 })),
    );
    writeFileSync(
      join(dir, 'spam.onnx'),
      encodeModel(matmulModel(floatTensor('w', new Array(8).fill(0), [4, 2]), floatTensor('b', [0, 0]), 4, 2)),
    );
    const problems = await checkTaskFiles(spec, 'spam', join(dir, 'spam_config.json'), join(dir, 'spam.onnx'), 128);
    const text = problems.join('\n');
    expect(text).toMatch(/id2label\[0\] = "ham" but label2id\["ham"\] = 1/);
    expect(text).toMatch(/pooling cls, the model uses mean/);
    expect(text).toMatch(/max_length 64, exported with 128/);
    expect(text).toMatch(/spam\.onnx: inputs x, expected input_ids, attention_mask/);
    expect(text).toMatch(/spam\.onnx: outputs y, expected logits/);
  });

  it('refuses a config without RapidFit keys', async () => {
    const dir = scratchDir('rfe-config-');
    const { id2label: _dropped, ...rest } = config();
    writeFileSync(join(dir, 'spam_config.json'), JSON.stringify(rest));
    writeFileSync(
      join(dir, 'spam.onnx'),
      encodeModel(matmulModel(floatTensor('w', [0, 0], [1, 2]), floatTensor('b', [0, 0]), 1, 2)),
    );
    expect(
      (await checkTaskFiles(spec, 'spam', join(dir, 'spam_config.json'), join(dir, 'spam.onnx'), 128)).join(),
    ).toMatch(/id2label/);
  });
});
