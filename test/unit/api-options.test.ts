import { describe, expect, it } from 'vitest';
import { exportOptionsFor as resolveExportOptions } from '../../src/api/export-model.js';
import { defaultLimit } from '../../src/plan/variants.js';
import { InputError } from '../../src/errors.js';

describe('exportModel options (library API)', () => {
  it('fills the CLI defaults and passes the bridge timeout through', () => {
    const options = resolveExportOptions('some/model', { bridgeTimeoutSeconds: 30, gates: ['spam.int8.top1=0.95'] });
    expect(options.bridgeTimeoutSeconds).toBe(30);
    expect(options.int8Top1).toBe(defaultLimit('int8', 'top1Agreement'));
    expect(options.outDir.endsWith('some/model-onnx')).toBe(true);
    expect(options.gates).toEqual([expect.objectContaining({ task: 'spam', limit: 0.95 })]);
    expect(options.progress).toBe(false);
  });

  it('refuses a negative bridge timeout and a malformed gate as input errors', () => {
    expect(() => resolveExportOptions('m', { bridgeTimeoutSeconds: -1 })).toThrow(InputError);
    expect(() => resolveExportOptions('m', { bridgeTimeoutSeconds: -1 })).toThrow(/bridge timeout/);
    expect(() => resolveExportOptions('m', { gates: ['spam.int8.top1=abc'] })).toThrow(InputError);
  });
});
