import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { FUZZ_PROPERTIES, RELIABILITY_CASES } from '../helpers/reliability-cases.js';
import { messagePattern, renderReliabilityDoc } from '../helpers/reliability.js';

const DOC = join(PACKAGE_ROOT, 'docs', 'reliability.md');

describe('docs/reliability.md', () => {
  it('is the case list rendered (RFE_WRITE_RELIABILITY=1 rewrites it)', () => {
    const rendered = renderReliabilityDoc();
    if (process.env.RFE_WRITE_RELIABILITY) writeFileSync(DOC, rendered);
    expect(readFileSync(DOC, 'utf8'), 'docs/reliability.md is out of date: see its first paragraph').toBe(rendered);
  });

  it('has unique ids, and every case is asserted by the test file it names', () => {
    const ids = RELIABILITY_CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of RELIABILITY_CASES) {
      const source = readFileSync(join(PACKAGE_ROOT, 'test', c.test), 'utf8');
      expect(source.includes(`'${c.id}'`), `${c.test} never names case '${c.id}'`).toBe(true);
    }
  });

  it('names, for every fuzzing row, a property test that exists under that title', () => {
    for (const p of FUZZ_PROPERTIES) {
      const source = readFileSync(join(PACKAGE_ROOT, 'test', p.test), 'utf8');
      expect(source.includes(p.title), `${p.test} has no test titled "${p.title}..."`).toBe(true);
    }
  });

  it('turns <...> into "any text" and keeps the rest literal', () => {
    const pattern = messagePattern('error: <path>: is truncated (<n> bytes) [x]');
    expect(pattern.test('error: /a/b.safetensors: is truncated (12 bytes) [x]')).toBe(true);
    expect(pattern.test('error: /a/b: is truncated (12 bytes) [y]')).toBe(false);
    expect(pattern.test('error: /a/b: is truncated (12 bytes) [x] and more')).toBe(false);
  });
});
