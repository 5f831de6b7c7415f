import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode, InputError, type ExitCodeValue } from '../errors.js';
import { DEFAULT_BATCH_SIZE, loadBundle } from '../predict/bundle.js';
import { jsonLine, predictionTable } from '../predict/format.js';
import { readTextsFile } from '../predict/input-file.js';

export const PREDICT_HELP = `rapidfit-export predict <bundle> [text ...] [options]

Predict labels with a bundle in Node (onnxruntime-node and the bundle's tokenizer; no Python).
The bundle must match its manifest (sha256 of every file) and be verified.

Options:
      --file <f>           texts to predict: .txt (one per line) or .jsonl (a "text" per line);
                           texts given as arguments come first
      --tasks <a,b>        tasks to predict (default: all)
      --variant <v>        int8 (default), fp32 or fp16; FP32 when the bundle has no graph of that variant
      --batch-size <n>     texts per graph run (default ${DEFAULT_BATCH_SIZE})
      --max-length <n>     tokenizer max_length (default: each task config's max_length)
      --no-multihead       one session per task, even when the bundle has multihead.onnx (used
                           by default for several tasks: one encoder pass instead of one per task)
      --json               JSON lines: {"text", "predictions": {task: {"label", "confidence"}}}
      --no-progress        no progress lines on stderr (shown past 200 texts)
  -h, --help               this help`;

export const OPTIONS = {
  file: { type: 'string' },
  tasks: { type: 'string' },
  variant: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-length': { type: 'string' },
  json: { type: 'boolean', default: false },
  progress: { type: 'boolean', default: true },
  'no-progress': { type: 'boolean', default: false },
  multihead: { type: 'boolean', default: true },
  'no-multihead': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Progress and throughput go to stderr only for inputs longer than this. */
const LONG_INPUT = 200;

function positiveInteger(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < 1)
    throw new InputError(`--${name} needs a positive integer, got "${raw}"`);
  return value;
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InputError(`${(error as Error).message.split('\n')[0]!} (see rapidfit-export predict --help)`);
  }
}

/** Throttled progress on stderr: a rewritten line on a terminal, a line every few seconds otherwise. */
function progressReporter(enabled: boolean): (done: number, total: number) => void {
  if (!enabled) return () => {};
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < (tty ? 200 : 2000)) return;
    last = now;
    const line = `predict: ${done}/${total} texts (${Math.floor((done / total) * 100)}%)`;
    process.stderr.write(tty ? `\r\u001b[2K${line}${done === total ? '\n' : ''}` : `${line}\n`);
  };
}

/**
 * `rapidfit-export predict <bundle> [text ...]`: reads its own options from the raw argv (the main
 * command's parser knows none of them) and writes predictions to stdout.
 */
export async function commandPredict(argv: string[]): Promise<ExitCodeValue> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    process.stdout.write(`${PREDICT_HELP}\n`);
    return ExitCode.ok;
  }
  const [bundleDir, ...argumentTexts] = positionals;
  if (!bundleDir)
    throw new InputError('predict needs a bundle directory: rapidfit-export predict ./my_model-onnx "some text"');
  const batchSize = positiveInteger('batch-size', values['batch-size']) ?? DEFAULT_BATCH_SIZE;
  const maxLength = positiveInteger('max-length', values['max-length']);
  const tasks = values.tasks
    ?.split(',')
    .map((task) => task.trim())
    .filter(Boolean);
  if (tasks && tasks.length === 0) throw new InputError('--tasks names no task');
  // the bundle is checked (manifest, checksums, tokenizer, variant) before any text is read
  const bundle = await loadBundle(resolve(bundleDir), {
    variant: values.variant ?? 'int8',
    multihead: values.multihead && !values['no-multihead'],
    onNote: (note) => process.stderr.write(`${note}\n`),
  });
  try {
    const selected = tasks ?? bundle.tasks.map((task) => task.name);
    for (const task of selected) bundle.taskVariant(task); // unknown task: exit 2 before reading texts
    const texts = [...argumentTexts, ...(values.file ? await readTextsFile(values.file) : [])];
    if (texts.length === 0) throw new InputError('no texts to predict: give them as arguments or with --file');
    const long = texts.length > LONG_INPUT && values.progress && !values['no-progress'];
    const started = performance.now();
    const predictions = await bundle.predict(texts, {
      tasks: selected,
      batchSize,
      ...(maxLength ? { maxLength } : {}),
      onProgress: progressReporter(long),
    });
    const seconds = (performance.now() - started) / 1000;
    if (values.json)
      process.stdout.write(`${texts.map((text, index) => jsonLine(text, predictions[index]!)).join('\n')}\n`);
    else process.stdout.write(`${predictionTable(texts, predictions, selected)}\n`);
    if (long) {
      const variants = [...new Set(selected.map((task) => bundle.taskVariant(task)))].join('/');
      const graphs = bundle
        .openGraphs()
        .map((file) => basename(file))
        .join(', ');
      process.stderr.write(
        `predict: ${texts.length} texts x ${selected.length} task${selected.length > 1 ? 's' : ''} in ${seconds.toFixed(2)} s: ${Math.round(texts.length / seconds)} texts/s (${variants}, batch ${batchSize}; ${graphs})\n`,
      );
    }
  } finally {
    await bundle.close();
  }
  return ExitCode.ok;
}
