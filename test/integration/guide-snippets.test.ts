import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/bridge/client.js';
import { fixturePath } from '../../fixtures/models.mjs';
import { bridgePython, runCli, scratchDir } from '../helpers/cli.js';

/*
 * RapidFit's inference guide (docs/INFERENCE_GUIDE.md of github.com/bakrianoo/RapidFit, commit
 * 6d2e0b315ac0, the version that loads `./onnx_models/tokenizer` and `<task>_config.json` as our
 * bundle has them), its "Level 2" and "Level 3" ONNX Runtime snippets, copied VERBATIM. Not even the
 * paths are substituted: the bundle is exported to `<scratch>/onnx_models`, the scripts run with
 * `<scratch>` as working directory, and the tiny fixture has a task named `sentiment`, as the guide's.
 * The only code not from the guide is the RESULT line appended to each script, so the test can read
 * what the snippet computed.
 */

/** Level 2, "Run with ONNX Runtime". `session.run(None, dict(inputs))` fails on token_type_ids unless
 * the bundle's tokenizer returns exactly the graph's inputs. */
const LEVEL2_RUN = `import json
import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer

# Load tokenizer and config
tokenizer = AutoTokenizer.from_pretrained("./onnx_models/tokenizer")
config = json.load(open("./onnx_models/sentiment_config.json"))
id2label = {int(k): v for k, v in config["id2label"].items()}

# Load ONNX model
session = ort.InferenceSession("./onnx_models/sentiment.onnx")

# Run inference
text = "I love this product!"
inputs = tokenizer(text, return_tensors="np", padding=True, truncation=True)
logits = session.run(None, dict(inputs))[0]

# Get prediction
probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
predicted_id = np.argmax(probs, axis=-1)[0]
label = id2label[predicted_id]
confidence = probs[0, predicted_id]
`;

/** Level 2, "Batch Inference" (continues the script above). */
const LEVEL2_BATCH = `texts = ["Great!", "Terrible service", "It's okay I guess"]
inputs = tokenizer(texts, return_tensors="np", padding=True, truncation=True)

outputs = session.run(
    None,
    {
        "input_ids": inputs["input_ids"],
        "attention_mask": inputs["attention_mask"],
    }
)

predictions = np.argmax(outputs[0], axis=-1)
`;

/** Level 3, "Run the Quantized Model": "Same code as regular ONNX—just point to the quantized file". */
const LEVEL3_RUN = `session = ort.InferenceSession("./onnx_models/sentiment_int8.onnx")
# ... same inference code
`;
const LEVEL2_SESSION_LINE = 'session = ort.InferenceSession("./onnx_models/sentiment.onnx")\n';

/** Appended by the test, not from the guide. */
const REPORT = `
import json as _json
print("RESULT " + _json.dumps({
    "label": label, "confidence": float(confidence), "probs": probs[0].tolist(), "logits_shape": list(logits.shape),
    "batch_input_names": sorted(inputs.keys()), "batch_predictions": [int(p) for p in predictions],
}))
`;

interface SnippetResult {
  label: string;
  confidence: number;
  probs: number[];
  logits_shape: number[];
  batch_input_names: string[];
  batch_predictions: number[];
}

describe("RapidFit's inference guide snippets, verbatim, on the bundle", () => {
  const root = scratchDir('rfe-guide-');
  const bundle = join(root, 'onnx_models');
  let python: string;

  beforeAll(async () => {
    python = await bridgePython();
    const run = await runCli([
      fixturePath('tiny-mean-gelu'),
      '-o',
      bundle,
      '--samples-limit',
      '16',
      '--int8',
      'dynamic',
      '--no-progress',
    ]);
    if (run.exitCode !== 0) throw new Error(`export failed (${run.exitCode}): ${run.stderr}`);
  }, 5 * 60_000);

  async function runSnippet(name: string, code: string): Promise<SnippetResult> {
    const file = join(root, `${name}.py`);
    writeFileSync(file, `${code}${REPORT}`);
    const run = await execa(python, [file], {
      cwd: root,
      reject: false,
      env: { HF_HUB_OFFLINE: '1', PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(run.stderr).not.toMatch(/Invalid input name|Traceback/);
    expect(run.exitCode).toBe(0);
    const line = run.stdout.split('\n').find((text) => text.startsWith('RESULT '));
    return JSON.parse(line!.slice('RESULT '.length)) as SnippetResult;
  }

  const labels = () =>
    Object.values(
      (JSON.parse(readFileSync(join(bundle, 'sentiment_config.json'), 'utf8')) as { id2label: Record<string, string> })
        .id2label,
    );

  function expectSane(result: SnippetResult): void {
    expect(labels()).toContain(result.label);
    expect(result.logits_shape).toEqual([1, 3]);
    expect(result.confidence).toBeCloseTo(Math.max(...result.probs), 6);
    expect(result.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(result.batch_input_names).toEqual(['attention_mask', 'input_ids']);
    expect(result.batch_predictions).toHaveLength(3);
    for (const id of result.batch_predictions) expect([0, 1, 2]).toContain(id);
  }

  it('records model_input_names = the graph inputs in the bundled tokenizer_config.json', () => {
    const config = JSON.parse(readFileSync(join(bundle, 'tokenizer', 'tokenizer_config.json'), 'utf8')) as {
      model_input_names?: string[];
    };
    expect(config.model_input_names).toEqual(['input_ids', 'attention_mask']);
  });

  let fp32: SnippetResult;
  it('Level 2 (FP32 graph, dict(inputs), then batch inference) runs and predicts a label', async () => {
    fp32 = await runSnippet('level2', `${LEVEL2_RUN}\n${LEVEL2_BATCH}`);
    expectSane(fp32);
  }, 60_000);

  it('Level 3 (the INT8 graph with the same code) runs and agrees with FP32', async () => {
    expect(LEVEL2_RUN).toContain(LEVEL2_SESSION_LINE);
    const int8 = await runSnippet('level3', `${LEVEL2_RUN.replace(LEVEL2_SESSION_LINE, LEVEL3_RUN)}\n${LEVEL2_BATCH}`);
    expectSane(int8);
    // the bundle's INT8 gate held (top-1 agreement); probabilities stay close to FP32's
    for (const [index, p] of int8.probs.entries()) expect(Math.abs(p - fp32.probs[index]!)).toBeLessThan(0.05);
  }, 60_000);

  describe('the bridge check of the saved tokenizer', () => {
    let client: BridgeClient;
    beforeAll(async () => {
      client = await BridgeClient.start({ python });
    }, 120_000);
    afterAll(async () => client?.close());

    const probe = (tokenizerDir: string) =>
      client.request<{ same: boolean; detail: string }>('check_tokenizer', {
        model_dir: fixturePath('tiny-mean-gelu'),
        tokenizer_dir: tokenizerDir,
        texts: ['I love this product!', 'ok', 'Das ist ein Satz. '.repeat(40)],
        max_length: 128,
      });

    it("accepts the bundle's tokenizer", async () => {
      expect(await probe(join(bundle, 'tokenizer'))).toEqual({ same: true, detail: '' });
    });

    it('refuses a tokenizer that returns keys the graphs do not take (token_type_ids)', async () => {
      // the model's own BERT tokenizer, as saved by RapidFit, returns token_type_ids too
      const result = await probe(join(fixturePath('tiny-mean-gelu'), 'encoder'));
      expect(result.same).toBe(false);
      expect(result.detail).toMatch(/also returns token_type_ids, which the graphs do not take/);
    });
  });
});
