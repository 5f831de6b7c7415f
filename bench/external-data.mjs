// bench/external-data: stream a generated ~3 GB model's weights into a new, aligned external data
// file (what the bundle step does for models over 2 GB) and print throughput and peak RSS as a
// fraction of the model size. The measured step runs in a child process so that its peak RSS is
// its own.
//   npm run build && node bench/external-data.mjs [--gib 3]
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { readOnnx, writeOnnx } from '../dist/onnx/model-file.js';
import { encodeModel } from '../dist/onnx/proto.js';

const args = process.argv.slice(2);
if (args[0] === '--child') {
  const [, input, output] = args;
  const started = performance.now();
  const source = await readOnnx(input);
  const written = await writeOnnx(output, source.model, source.external, { externalData: 'always' });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    JSON.stringify({ seconds, bytes: written.dataBytes, maxRssKiB: process.resourceUsage().maxRSS }),
  );
  process.exit(0);
}

const gib = Number(args[args.indexOf('--gib') + 1]) || 3;
const side = 8192; // 8192 x 8192 float32 = 256 MiB per tensor
const tensorBytes = side * side * 4;
const count = Math.ceil((gib * 2 ** 30) / tensorBytes);
const dir = mkdtempSync(join(tmpdir(), 'bench-external-'));
try {
  process.stderr.write(
    `generating ${count} x 256 MiB tensors (${((count * tensorBytes) / 2 ** 30).toFixed(2)} GiB) in ${dir}\n`,
  );
  const stream = createWriteStream(join(dir, 'source.bin'));
  const chunk = Buffer.alloc(16 * 2 ** 20);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeFloatLE(((i % 9973) - 4986) / 4986, i);
  for (let written = 0; written < count * tensorBytes; written += chunk.length) {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  await finished(stream);
  const initializer = Array.from({ length: count }, (_, i) => ({
    name: `w${i}`,
    dims: [side, side],
    data_type: 1,
    data_location: 1,
    external_data: [
      { key: 'location', value: 'source.bin' },
      { key: 'offset', value: String(i * tensorBytes) },
      { key: 'length', value: String(tensorBytes) },
    ],
  }));
  const vi = (name) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: side }] } } },
  });
  const node = initializer.map((t, i) => ({
    op_type: 'MatMul',
    input: [i === 0 ? 'x' : `h${i - 1}`, t.name],
    output: [i === count - 1 ? 'y' : `h${i}`],
  }));
  writeFileSync(
    join(dir, 'model.onnx'),
    encodeModel({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: { name: 'big', node, initializer, input: [vi('x')], output: [vi('y')] },
    }),
  );
  const modelBytes = count * tensorBytes;
  // drop the generated file from the page cache's favour: measure a cold-ish read the same way each time
  const result = JSON.parse(
    execFileSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', join(dir, 'model.onnx'), join(dir, 'out.onnx')],
      { encoding: 'utf8' },
    ),
  );
  const rss = result.maxRssKiB * 1024;
  const outSize = statSync(join(dir, 'out_weights.bin')).size;
  console.log(
    `bench/external-data: ${(modelBytes / 2 ** 30).toFixed(2)} GiB model, ${count} tensors, re-packed into one aligned data file`,
  );
  console.log(`  wall time        ${result.seconds.toFixed(1)} s`);
  console.log(`  throughput       ${(modelBytes / 1e6 / result.seconds).toFixed(0)} MB/s`);
  console.log(
    `  peak RSS         ${(rss / 2 ** 20).toFixed(0)} MiB = ${((rss / modelBytes) * 100).toFixed(1)}% of the model size`,
  );
  console.log(`  data file        ${(outSize / 2 ** 30).toFixed(2)} GiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
