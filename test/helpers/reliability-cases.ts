/**
 * Every bad input and fault the tests inject, with what the tool must do: the single source of
 * docs/reliability.md. Tests assert each case through `expectCase(id, ...)` (test/helpers/reliability.ts),
 * and test/unit/reliability-doc.test.ts checks that the document is this list rendered and that every
 * case is asserted by the test file it names. So the table cannot drift from what is tested.
 *
 * `message` is a whole line of output (stderr for errors); `<...>` stands for any text (paths, sizes, pids).
 */

/** What a run leaves at -o and beside it. */
type Left =
  /** the directory the run wrote into is as it was before the run (no -o, no staging, lock or .old dirs) */
  | 'nothing'
  /** the bundle that was at -o before the run, byte for byte, and nothing beside it */
  | 'previous bundle'
  /** a complete, verified bundle at -o (each file matches its manifest), nothing beside it */
  | 'complete bundle'
  /** the previous bundle at -o, byte for byte; the failed candidate in <out>.unverified/ */
  | 'previous bundle and candidate';

export interface ReliabilityCase {
  id: string;
  /** The bad input or fault, as a user would describe it. */
  fault: string;
  /** How the test produces it. */
  injected: string;
  exitCode: number;
  /** One whole line of the output (errors: stderr); `<...>` matches any text. */
  message: string;
  left: Left;
  /** The test file (under test/) that asserts this case. */
  test: string;
}

export const RELIABILITY_CASES: ReliabilityCase[] = [
  // --- bad input: the model directory (exit 2) ---
  {
    id: 'model-dir-missing',
    fault: 'the model directory does not exist',
    injected: 'a path that does not exist',
    exitCode: 2,
    message: 'error: <dir>/nope: the model directory does not exist',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'no-encoder',
    fault: 'a RapidFit model without `encoder/`',
    injected: '`encoder/` deleted from a copy of a tiny model',
    exitCode: 2,
    message: 'error: <model>/encoder: a RapidFit model needs an encoder/ directory beside task_heads.pt; it is missing',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'no-task-heads',
    fault: 'a RapidFit model without `task_heads.pt`',
    injected: '`task_heads.pt` deleted',
    exitCode: 2,
    message: 'error: <model>/task_heads.pt: a RapidFit model needs task_heads.pt beside encoder/; it is missing',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'not-a-model-dir',
    fault: 'an empty directory',
    injected: 'an empty directory',
    exitCode: 2,
    message:
      'error: <dir>/empty: not a model directory: expected encoder/ and task_heads.pt (RapidFit) or config.json (Hugging Face)',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'task-heads-not-a-dict',
    fault: "`task_heads.pt` is a torch file but not RapidFit's dict",
    injected: '`torch.save({"weights": ...})` and `torch.save([1, 2, 3])`',
    exitCode: 2,
    message: 'error: <model>/task_heads.pt: is not a RapidFit task_heads dict<...>',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'task-heads-truncated',
    fault: '`task_heads.pt` truncated',
    injected: 'the first half of the file',
    exitCode: 2,
    message:
      'error: <model>/task_heads.pt: cannot be read as a PyTorch file (<...>); it may be truncated or not a torch.save() file',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'task-heads-random-bytes',
    fault: '`task_heads.pt` is not a PyTorch file at all',
    injected: '20,000 random bytes',
    exitCode: 2,
    message:
      'error: <model>/task_heads.pt: is not a PyTorch checkpoint, or it is corrupt (it starts with bytes <hex>, not a zip archive or a pickle)',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'task-heads-garbled-pickle',
    fault: '`task_heads.pt` is a torch zip whose pickle is garbage',
    injected: "the zip's `data.pkl` replaced by random bytes",
    exitCode: 2,
    message: 'error: <model>/task_heads.pt: is not a PyTorch checkpoint, or it is corrupt (<...>)',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'unsafe-pickle',
    fault: '`task_heads.pt` holds a pickle that would run code',
    injected: 'an object whose `__reduce__` calls `os.system`; the command is never run',
    exitCode: 2,
    message:
      'error: <model>/task_heads.pt: refused to load: the file holds Python objects that a weights-only load does not allow (they could run code when unpickled). <...>',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'head-label-mismatch',
    fault: "a head's output size disagrees with its labels",
    injected: 'one label removed from `task_num_labels`, `id2label` and `label2id`',
    exitCode: 2,
    message: 'error: <model>/task_heads.pt: task "topic": the head outputs 5 logits but task_num_labels says 4<...>',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'safetensors-truncated',
    fault: '`encoder/model.safetensors` truncated',
    injected: 'the first half of the file',
    exitCode: 2,
    message:
      'error: <model>/encoder/model.safetensors: is truncated: its tensors need <n> bytes of data, the file holds <n>',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'safetensors-header-garbage',
    fault: '`encoder/model.safetensors` is not a safetensors file',
    injected: 'random bytes',
    exitCode: 2,
    message:
      'error: <model>/encoder/model.safetensors: is truncated or corrupt: its header claims <n> bytes but the file holds <n>',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  // --- bad input: options and output (exit 2) ---
  {
    id: 'unknown-task',
    fault: '`--tasks` names a task the model does not have',
    injected: '`--tasks sentiment,colour`',
    exitCode: 2,
    message: 'error: <model>/task_heads.pt: unknown task(s) colour; the model has sentiment, topic, spam',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'gate-unknown-task',
    fault: 'a gate names a task the model does not have',
    injected: '`--gate colour.int8.top1=0.9`',
    exitCode: 2,
    message:
      'error: <model>/task_heads.pt: a gate names task(s) colour, which the model does not have (it has sentiment, topic, spam)',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'output-inside-input',
    fault: '`-o` inside the model directory',
    injected: '`-o <model>/bundle`',
    exitCode: 2,
    message: 'error: <model>/bundle: the output directory is inside the input model directory',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'output-is-file',
    fault: '`-o` is a file',
    injected: 'a regular file as `-o`',
    exitCode: 2,
    message: 'error: <dir>/a-file: the output path exists and is not a directory',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  // --- a parity gate (exit 3) ---
  {
    id: 'parity-gate-failed',
    fault: 'the ONNX graph does not match PyTorch within the gate',
    injected: '`--fp32-tolerance 1e-15`',
    exitCode: 3,
    message:
      'error: <out>.unverified/parity-report.md: parity gate failed: task "language": fp32 maxAbsDiff = <x>, limit <= 1.00e-15',
    left: 'previous bundle and candidate',
    test: 'integration/atomic.test.ts',
  },
  // --- environment: Python and the bridge venv (exit 4) ---
  {
    id: 'no-python',
    fault: 'no usable Python',
    injected: '`--python` pointing at nothing',
    exitCode: 4,
    message: 'error: cannot run Python interpreter "<path>/no-python3"',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'venv-install-fails',
    fault: 'the pinned venv cannot be installed (no network, no disk)',
    injected: 'an empty cache and `PIP_NO_INDEX=1`',
    exitCode: 4,
    message: 'error: <path>/requirements.lock: pip could not install the pinned bridge environment:',
    left: 'nothing',
    test: 'integration/bad-input.test.ts',
  },
  {
    id: 'venv-package-removed',
    fault: 'a package removed from the cached venv',
    injected: '`pip uninstall typing_extensions` in a hard-linked copy of the venv (torch no longer imports)',
    exitCode: 0,
    message: '<...>repairing <venv>: installing what is missing from the lock',
    left: 'complete bundle',
    test: 'integration/faults.test.ts',
  },
  // --- environment: the bridge process (exit 4) ---
  {
    id: 'bridge-killed-inspect',
    fault: 'the bridge killed while it inspects the model',
    injected: '`SIGKILL` to the bridge when the "Inspect the model" step starts',
    exitCode: 4,
    message: 'error: step "inspect": <...>the Python bridge was killed by SIGKILL <...>',
    left: 'nothing',
    test: 'integration/faults.test.ts',
  },
  {
    id: 'bridge-killed-export',
    fault: 'the bridge killed while it exports',
    injected: '`SIGKILL` to the bridge when it reports "tracing the shared encoder"',
    exitCode: 4,
    message:
      'error: step "trace": the Python bridge was killed by SIGKILL while running "export" (request <n>, <...> s in; last progress: "tracing the shared encoder<...>")',
    left: 'nothing',
    test: 'integration/faults.test.ts',
  },
  {
    id: 'bridge-killed-reference',
    fault: 'the bridge killed while it computes the PyTorch reference logits',
    injected: '`SIGKILL` to the bridge when it reports its first PyTorch batch',
    exitCode: 4,
    message: 'error: step "reference": <...>the Python bridge was killed by SIGKILL <...>',
    left: 'nothing',
    test: 'integration/faults.test.ts',
  },
  {
    id: 'bridge-hung',
    fault: 'the bridge hangs (stopped, wedged)',
    injected: '`SIGSTOP` to the bridge when it reports "tracing the shared encoder", with `--bridge-timeout 4`',
    exitCode: 4,
    message:
      'error: step "<step>": the Python bridge sent nothing for 4 s while running "<method>" (<...>): it is hung or stopped, and was killed',
    left: 'nothing',
    test: 'integration/faults.test.ts',
  },
  // --- environment: disk, signals, concurrency ---
  {
    id: 'disk-full',
    fault: 'the disk fills up while the bundle is written',
    injected: '`-o` on a 24 MB tmpfs (private mount namespace) that holds the previous 17 MB bundle',
    exitCode: 4,
    message: 'error: <path>: no space left on the device (ENOSPC) in step "<step>"',
    left: 'previous bundle',
    test: 'integration/faults.test.ts',
  },
  {
    id: 'sigterm',
    fault: 'the run is terminated (`kill`, CI cancel)',
    injected: '`SIGTERM` to the tool during the export step',
    exitCode: 143,
    message: 'interrupted (SIGTERM); nothing was written',
    left: 'previous bundle',
    test: 'integration/faults.test.ts',
  },
  {
    id: 'sigint',
    fault: 'Ctrl-C',
    injected: '`SIGINT` to the tool during the export step',
    exitCode: 130,
    message: 'interrupted (SIGINT); nothing was written',
    left: 'previous bundle',
    test: 'integration/faults.test.ts',
  },
  {
    id: 'concurrent-same-output',
    fault: 'two runs write the same `-o` at once',
    injected: 'two runs started together; the second one to claim `-o`',
    exitCode: 4,
    message: 'error: <out>: another rapidfit-export run (pid <n>) is writing this output directory',
    left: 'complete bundle',
    test: 'integration/faults.test.ts',
  },
];

/** A fast-check property over one kind of input (test/fuzz/): seeded (FUZZ_SEED, default 20261125), bounded. */
export interface FuzzProperty {
  input: string;
  property: string;
  cases: string;
  /** Bugs the property found, fixed since (before -> after). */
  found: string;
  /** test/... file, and the start of the `it(...)` title there that asserts it. */
  test: string;
  title: string;
}

export const FUZZ_PROPERTIES: FuzzProperty[] = [
  {
    input: 'a real `.onnx`, truncated (inline and external-data versions)',
    property: 'a cut inside the graph is refused naming the file; any other cut is refused or reads as a valid model',
    cases: '60',
    found: 'none',
    test: 'fuzz/onnx-reader.test.ts',
    title: 'truncated files: refused with the file named',
  },
  {
    input: 'a real `.onnx` with 1-8 random bytes changed',
    property:
      'refused naming the file, or accepted and valid: rewriting it changes nothing, strings are UTF-8, `inspect` works, external ranges are good',
    cases: '80',
    found:
      'a raw `RangeError` from the schema check (exit 1) -> "not an ONNX model: the protobuf is truncated or corrupt" (exit 2); non-UTF-8 strings silently became U+FFFD -> refused',
    test: 'fuzz/onnx-reader.test.ts',
    title: 'files with 1-8 random bytes changed',
  },
  {
    input:
      'random external-data tables (locations with `..`, absolute, `C:\\`, symlinks out of the folder, directories; offsets, lengths)',
    property:
      'anything that leaves the model folder is always refused; otherwise refused, or every range is a file inside the folder, in bounds, the right length, no overlaps',
    cases: '150',
    found:
      'offsets such as `1e3`, `0x1000`, `4096.0` were accepted (JavaScript and onnxruntime read them differently) -> digits only; a directory as location failed later with EISDIR -> refused "is not a file"',
    test: 'fuzz/onnx-reader.test.ts',
    title: 'random external-data tables',
  },
  {
    input: '`rapidfit-export inspect` on corrupt ONNX files',
    property: 'exit 0 or 2 with the file named, never a stack trace',
    cases: '4',
    found: 'none',
    test: 'fuzz/onnx-reader.test.ts',
    title: 'rapidfit-export inspect on corrupt ONNX files',
  },
  {
    input: '`--samples` files (`.txt`, `.jsonl`)',
    property: "refused naming the file, or texts whose gold labels are ids from the model's label maps",
    cases: '300',
    found:
      'a line `null` or `"labels": null` threw a TypeError (exit 1) -> refused; labels named `constructor`/`__proto__` were looked up on Object\'s prototype -> own keys only, labels must be strings',
    test: 'fuzz/inputs.test.ts',
    title: '--samples files',
  },
  {
    input: '`predict --file`',
    property: 'refused naming the file, or a non-empty list of texts',
    cases: '300',
    found: 'none',
    test: 'fuzz/inputs.test.ts',
    title: 'predict --file',
  },
  {
    input: '`--gates-file`',
    property: 'refused naming the file, or known gates with finite limits in range and valid task names',
    cases: '300',
    found:
      'non-UTF-8 bytes were decoded loosely and any string taken as a task name -> strict UTF-8 and a task-name pattern',
    test: 'fuzz/inputs.test.ts',
    title: '--gates-file',
  },
  {
    input: 'model facts from `task_heads.pt` metadata, encoder `config.json`, label maps (checked in TypeScript)',
    property: 'refused naming `task_heads.pt` or `encoder/config.json`, or a consistent spec',
    cases: '2000',
    found:
      'duplicate task names, zero or negative head sizes and encoder counts were accepted -> refused; errors named the model folder -> they name the file',
    test: 'fuzz/inputs.test.ts',
    title: 'model facts',
  },
  {
    input: "a bundle's `<task>_config.json`",
    property: 'refused naming the file, or one label per class and a positive `max_length`',
    cases: '300',
    found: 'none',
    test: 'fuzz/inputs.test.ts',
    title: '<task>_config.json of a bundle',
  },
  {
    input: '`task_heads.pt` saved with fuzzed metadata, through the bridge',
    property: 'refused naming `task_heads.pt`, or a consistent spec',
    cases: '16',
    found:
      'a value of the wrong type (`head_config.dropout = ""`) raised a Python ValueError reported as exit 1 -> `BAD_TASK_HEADS`, exit 2',
    test: 'fuzz/task-heads.test.ts',
    title: 'task_heads.pt metadata',
  },
  {
    input: 'encoder `config.json` edited, through the bridge',
    property: 'refused naming the file, or a consistent spec',
    cases: '4',
    found: 'none',
    test: 'fuzz/task-heads.test.ts',
    title: 'encoder config.json',
  },
  {
    input: "a bundle's `manifest.json` damaged (library `verifyBundle`, `loadBundle`)",
    property:
      'refused naming the bundle; or every graph, weights and config path is inside the bundle and checksummed, gate limits finite',
    cases: '30',
    found:
      "non-array `options.gates` threw a TypeError (exit 1) and garbage tolerances became limits -> validated; a task named `constructor` picked up Object's constructor -> own keys; absolute or `..` paths were read and unlisted graphs skipped the checksum -> refused",
    test: 'fuzz/bundle.test.ts',
    title: 'manifest.json damaged',
  },
  {
    input: "a bundle's `verification.json` damaged, checksums redone",
    property: 'refused naming the bundle, or every stored text compared',
    cases: '30',
    found: 'none',
    test: 'fuzz/bundle.test.ts',
    title: 'verification.json damaged',
  },
  {
    input: "a bundle's graph or weights bytes damaged, checksums redone",
    property: 'refused naming the file, or every stored text compared',
    cases: '20',
    found:
      'onnxruntime failing to load a graph was "internal error" with a stack trace (exit 1) -> exit 2, "onnxruntime cannot load this graph: ..."',
    test: 'fuzz/bundle.test.ts',
    title: 'graph and weights files damaged',
  },
  {
    input: '`rapidfit-export verify` on damaged manifests',
    property: 'exit 0, 2 or 3, never 1, never a stack trace',
    cases: '4',
    found: 'none',
    test: 'fuzz/bundle.test.ts',
    title: 'rapidfit-export verify on damaged manifests',
  },
];
