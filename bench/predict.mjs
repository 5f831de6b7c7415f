// bench/predict: `rapidfit-export predict` in Node (tokenizers + onnxruntime-node, INT8, batch 32) vs the
// Python path (transformers tokenizer + onnxruntime Python + softmax, bench/predict_python.py in the
// bridge venv), side by side in one run, on 1,000 texts (the embedded samples, shuffled and repeated);
// then all tasks through multihead.onnx (one encoder pass) vs one session per task (N passes).
// Rounds alternate between the sides; each figure is the median round, model load and warm-up excluded.
//   npm run build && node bench/predict.mjs [--bundle <dir>] [--texts 1000] [--rounds 3] [--batch-size 32] [--no-python]
// --no-python: only Node, multihead vs per-task (the Python side is slow on a loaded machine).
// Without --bundle, the 3-task MiniLM fixture is exported once into a temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBridgeEnvironment } from '../dist/bridge/venv.js';
import { findPython } from '../dist/bridge/python.js';
import { buildFixtures, fixturePath } from '../fixtures/models.mjs';
import { loadBundle } from '../dist/predict/index.js';
import { TextTokenizer } from '../dist/tokenizer/tokenizer.js';
import { EMBEDDED_SAMPLES } from '../dist/verify/sample-texts.js';
import { shuffled } from '../dist/samples/order.js';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    bundle: { type: 'string' },
    texts: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '32' },
    'no-python': { type: 'boolean', default: false },
  },
});
const count = Number(values.texts);
const rounds = Number(values.rounds);
const batchSize = Number(values['batch-size']);
const work = mkdtempSync(join(tmpdir(), 'bench-predict-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const python = (await ensureBridgeEnvironment(await findPython())).python;
  let bundle = values.bundle;
  if (!bundle) {
    await buildFixtures(['minilm-3task']);
    bundle = join(work, 'bundle');
    process.stderr.write('exporting the 3-task MiniLM fixture...\n');
    // the demo's INT8 settings (README, "INT8 quantization": this model's near-tied samples need them)
    execFileSync(
      process.execPath,
      [
        join(root, 'dist', 'cli.js'),
        fixturePath('minilm-3task'),
        '-o',
        bundle,
        '--samples-limit',
        '16',
        '--per-channel',
        '--int8-top1',
        '0.85',
        '--no-progress',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  const base = shuffled(EMBEDDED_SAMPLES, 7);
  const texts = Array.from({ length: count }, (_, index) => base[index % base.length]);

  const model = await loadBundle(bundle, { variant: 'int8' });
  const tasks = model.tasks.map((task) => task.name);
  const maxLength = model.tasks[0].maxLength;
  await model.predict(texts.slice(0, batchSize), { batchSize }); // warm-up: sessions open, first runs
  const tokenizer = TextTokenizer.load(join(bundle, 'tokenizer'));
  await tokenizer.tokenize(texts.slice(0, 64), maxLength);

  const pythonRun = (sort) =>
    JSON.parse(
      execFileSync(python, [join(root, 'bench', 'predict_python.py')], {
        input: JSON.stringify({
          bundle,
          texts,
          tasks,
          batch_size: batchSize,
          max_length: maxLength,
          rounds: 1,
          sort,
          variant: 'int8',
        }),
        maxBuffer: 1 << 28,
        env: { ...process.env, PYTHONWARNINGS: 'ignore' },
      }).toString(),
    );
  const node = [];
  const nodeTokenize = [];
  const plain = [];
  const sorted = [];
  let nodePredictions;
  let pythonSorted;
  for (let round = 0; round < rounds; round += 1) {
    let started = performance.now();
    nodePredictions = await model.predict(texts, { batchSize });
    node.push((performance.now() - started) / 1000);
    started = performance.now();
    await tokenizer.tokenize(texts, maxLength);
    nodeTokenize.push((performance.now() - started) / 1000);
    if (values['no-python']) continue;
    plain.push(pythonRun(false));
    pythonSorted = pythonRun(true);
    sorted.push(pythonSorted);
    process.stderr.write(
      `round ${round + 1}/${rounds}: node ${node.at(-1).toFixed(2)} s, python ${plain.at(-1).seconds[0].toFixed(2)} s (input order), ${sorted.at(-1).seconds[0].toFixed(2)} s (sorted)\n`,
    );
  }

  // all tasks: multihead.onnx (one encoder pass per batch) vs N per-task sessions, alternating rounds
  const perTask = await loadBundle(bundle, { variant: 'int8', multihead: false });
  await perTask.predict(texts.slice(0, batchSize), { batchSize });
  const multiheadSeconds = [];
  const perTaskSeconds = [];
  let perTaskPredictions;
  for (let round = 0; round < rounds; round += 1) {
    for (const [side, seconds] of round % 2 === 0
      ? [
          [model, multiheadSeconds],
          [perTask, perTaskSeconds],
        ]
      : [
          [perTask, perTaskSeconds],
          [model, multiheadSeconds],
        ]) {
      const started = performance.now();
      const predictions = await side.predict(texts, { batchSize });
      seconds.push((performance.now() - started) / 1000);
      if (side === perTask) perTaskPredictions = predictions;
    }
    process.stderr.write(
      `round ${round + 1}/${rounds}: multihead ${multiheadSeconds.at(-1).toFixed(2)} s, per-task ${perTaskSeconds.at(-1).toFixed(2)} s\n`,
    );
  }
  const multiheadGraphs = model.openGraphs().map((file) => file.split('/').at(-1));
  const perTaskGraphs = perTask.openGraphs().map((file) => file.split('/').at(-1));
  await perTask.close();
  await model.close();
  let sameMultihead = 0;
  for (const [index, row] of nodePredictions.entries())
    for (const task of tasks) if (row[task].label === perTaskPredictions[index][task].label) sameMultihead += 1;

  const rate = (seconds) => count / seconds;
  const nodeRate = rate(median(node));
  console.log(
    `bench/predict: ${count} texts, ${tasks.length} tasks (${tasks.join(', ')}), INT8, batch ${batchSize}, max_length ${maxLength}, median of ${rounds} rounds`,
  );
  console.log(
    `  Node predict (tokenizers + onnxruntime-node, length-sorted):     ${nodeRate.toFixed(0).padStart(5)} texts/s`,
  );
  if (!values['no-python']) {
    // same batches (length-sorted) on both sides: the labels must be the same
    let same = 0;
    let worst = 0;
    for (const task of tasks) {
      const labels = model.tasks.find((t) => t.name === task).labels;
      pythonSorted.predictions[task].forEach(([id, confidence], index) => {
        const ours = nodePredictions[index][task];
        if (ours.label === labels[id]) same += 1;
        worst = Math.max(worst, Math.abs(ours.confidence - confidence));
      });
    }
    const plainRate = rate(median(plain.map((r) => r.seconds[0])));
    const sortedRate = rate(median(sorted.map((r) => r.seconds[0])));
    console.log(
      `  Python (transformers + onnxruntime, input order, as the guide):  ${plainRate.toFixed(0).padStart(5)} texts/s   Node/Python ${(nodeRate / plainRate).toFixed(2)}x`,
    );
    console.log(
      `  Python (same length-sorted batches as Node):                     ${sortedRate.toFixed(0).padStart(5)} texts/s   Node/Python ${(nodeRate / sortedRate).toFixed(2)}x`,
    );
    const pythonTokenize = median(plain.map((r) => r.tokenize_seconds[0]));
    console.log(
      `  tokenization alone: Node ${rate(median(nodeTokenize)).toFixed(0)} texts/s (one call), Python ${rate(pythonTokenize).toFixed(0)} texts/s (batches of ${batchSize}, padded, numpy)   ${(median(nodeTokenize) > 0 ? pythonTokenize / median(nodeTokenize) : 0).toFixed(2)}x`,
    );
    console.log(
      `  Node vs Python on the same batches: ${((same / (count * tasks.length)) * 100).toFixed(2)}% same labels, max |confidence diff| ${worst.toExponential(1)}`,
    );
  }
  const multiheadRate = rate(median(multiheadSeconds));
  const perTaskRate = rate(median(perTaskSeconds));
  const goal = tasks.length - 0.5;
  console.log(
    `  all ${tasks.length} tasks, multihead.onnx (${multiheadGraphs.join(', ')}):  ${multiheadRate.toFixed(0).padStart(5)} texts/s`,
  );
  console.log(
    `  all ${tasks.length} tasks, one session per task (${perTaskGraphs.join(', ')}):  ${perTaskRate.toFixed(0).padStart(5)} texts/s   multihead/per-task ${(multiheadRate / perTaskRate).toFixed(2)}x (goal >= ${goal}x: ${multiheadRate / perTaskRate >= goal ? 'met' : 'missed'}); ${((sameMultihead / (count * tasks.length)) * 100).toFixed(2)}% same labels`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
