import { basename, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { PREDICT_OPTIONS } from '../options/predict.js';
import { defineCommand } from './command.js';
// onnxruntime-node and tokenizers are imported when the command runs

/** Progress and throughput go to stderr only for inputs longer than this. */
const LONG_INPUT = 200;

/** Throttled progress on stderr: a rewritten line on a terminal, a line every few seconds otherwise. */
function progressReporter(enabled: boolean): (done: number, total: number) => void {
  if (!enabled) return () => {};
  const tty = process.stderr.isTTY;
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < (tty ? 200 : 2000)) return;
    last = now;
    const line = `predict: ${done}/${total} texts (${Math.floor((done / total) * 100)}%)`;
    process.stderr.write(tty ? `\r\u001b[2K${line}${done === total ? '\n' : ''}` : `${line}\n`);
  };
}

/** `rapidfit-export predict <bundle> [text ...]`: predictions on stdout, progress on stderr. */
export const predictCommand = defineCommand({
  name: 'predict',
  usage: '<bundle> [text ...]',
  summary: 'predict labels and confidences in Node (no Python)',
  description: `Predict labels with a bundle in Node (onnxruntime-node and the bundle's tokenizer; no Python).
The bundle must match its manifest (sha256 of every file) and be verified.`,
  options: PREDICT_OPTIONS,
  required: {
    missing: 'predict needs a bundle directory: rapidfit-export predict ./my_model-onnx "some text"',
    hint: 'see rapidfit-export predict --help',
  },
  async run({ positionals: [bundleDir = '', ...argumentTexts], options }) {
    const [{ loadBundle }, { jsonLine, predictionTable }, { readTextsFile }] = await Promise.all([
      import('../predict/bundle.js'),
      import('../predict/format.js'),
      import('../predict/input-file.js'),
    ]);
    // the bundle is checked (manifest, checksums, tokenizer, variant) before any text is read
    const bundle = await loadBundle(resolve(bundleDir), {
      variant: options.variant,
      multihead: options.multihead,
      onNote: (note) => process.stderr.write(`${note}\n`),
    });
    try {
      const selected = options.tasks ?? bundle.tasks.map((task) => task.name);
      for (const task of selected) bundle.taskVariant(task); // unknown task: exit 2 before reading texts
      const texts = [...argumentTexts, ...(options.file ? await readTextsFile(options.file) : [])];
      if (texts.length === 0) throw new InputError('no texts to predict: give them as arguments or with --file');
      const long = texts.length > LONG_INPUT && options.progress;
      const started = performance.now();
      const predictions = await bundle.predict(texts, {
        tasks: selected,
        batchSize: options.batchSize,
        ...(options.maxLength ? { maxLength: options.maxLength } : {}),
        onProgress: progressReporter(long),
      });
      const seconds = (performance.now() - started) / 1000;
      if (options.json)
        process.stdout.write(`${texts.map((text, index) => jsonLine(text, predictions[index]!)).join('\n')}\n`);
      else process.stdout.write(`${predictionTable(texts, predictions, selected)}\n`);
      if (long) {
        const variants = [...new Set(selected.map((task) => bundle.taskVariant(task)))].join('/');
        const graphs = bundle
          .openGraphs()
          .map((file) => basename(file))
          .join(', ');
        process.stderr.write(
          `predict: ${texts.length} texts x ${selected.length} task${selected.length > 1 ? 's' : ''} in ${seconds.toFixed(2)} s: ${Math.round(texts.length / seconds)} texts/s (${variants}, batch ${options.batchSize}; ${graphs})\n`,
        );
      }
    } finally {
      await bundle.close();
    }
  },
});
