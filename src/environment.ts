import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { PACKAGE_ROOT } from './paths.js';

export const TOOL_NAME = 'rapidfit-export';

export function toolVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** ISA flags that change INT8 and FP32 kernels (and so their results) in onnxruntime. */
const RELEVANT_FLAGS = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512bw',
  'avx512_vnni',
  'avx_vnni',
  'amx_int8',
  'amx_bf16',
];

function cpuFacts(): { model: string; cores: number; flags: string[] } {
  const model = cpus()[0]?.model ?? 'unknown';
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('flags'));
    const all = new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
    flags = RELEVANT_FLAGS.filter((flag) => all.has(flag));
  } catch {
    // not Linux: leave the flags empty
  }
  return { model, cores: cpus().length, flags };
}

export function runtimeFacts(): {
  node: string;
  platform: string;
  onnxruntimeNode: string | undefined;
  cpu: ReturnType<typeof cpuFacts>;
} {
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    onnxruntimeNode: ort.env.versions.node,
    cpu: cpuFacts(),
  };
}
