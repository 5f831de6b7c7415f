import { z } from 'zod';
import { OUTPUT_OPTIONS } from './common.js';
import { DEFAULT_BATCH_SIZE } from './predict.js';
import { EXPORT_OPTIONS } from './export.js';
import { list, number, parseTable, tableSchema, text, type ApiInput, type TableOutput } from './table.js';
import { VARIANTS } from '../plan/variants.js';

const GATES = 'Gates';
const OUTPUT = 'Output';

const fraction = (what: string) =>
  z.number().min(0, `${what} must be between 0 and 1`).max(1, `${what} must be between 0 and 1`);

/** The default of --min-agreement: the share of texts whose label may not change between releases is 1%. */
const DEFAULT_MIN_AGREEMENT = 0.99;

/** `rapidfit-export compare <old-bundle> <new-bundle>`. */
export const COMPARE_OPTIONS = {
  samples: {
    ...EXPORT_OPTIONS.samples,
    help: "more texts (repeatable), any of export's --samples formats; gold labels add accuracy\n(the texts stored in both bundles' verification.json are always used)",
  },
  textColumn: EXPORT_OPTIONS.textColumn,
  labelColumns: { ...EXPORT_OPTIONS.labelColumns, help: "CSV/TSV: the column with a task's label (repeatable)" },
  tasks: list(z.array(z.string().min(1)).min(1, '--tasks names no task').optional(), {
    arg: '<a,b>',
    help: 'tasks to compare (default: every task both bundles have)',
  }),
  variants: list(z.array(z.enum(VARIANTS)).min(1, '--variant names no variant').optional(), {
    flag: 'variant',
    arg: '<v,v>',
    help: 'variants to compare: fp32, int8, fp16 (default: every variant both bundles have;\na variant named here that one bundle lacks is exit 2)',
  }),
  batchSize: number(
    z.number().int('must be a positive integer').min(1, 'must be a positive integer').default(DEFAULT_BATCH_SIZE),
    { arg: '<n>', help: (size) => `texts per graph run (default ${size})` },
  ),
  minAgreement: number(fraction('the agreement').default(DEFAULT_MIN_AGREEMENT), {
    arg: '<x>',
    help: (limit) => `gate: share of texts whose label stays the same, per task and variant (default ${limit})`,
    section: GATES,
  }),
  maxAccuracyDrop: number(fraction('the accuracy drop').optional(), {
    arg: '<x>',
    help: 'gate: old accuracy - new accuracy on the labelled texts, at most this (needs labels)',
    section: GATES,
  }),
  md: text(z.string().min(1).optional(), { arg: '<file>', help: 'also write the report as Markdown', section: OUTPUT }),
  html: text(z.string().min(1).optional(), {
    arg: '<file>',
    help: 'also write the report as one self-contained HTML page',
    section: OUTPUT,
  }),
  junit: text(z.string().min(1).optional(), {
    arg: '<file>',
    help: 'also write the gates as JUnit XML (one test case per task, variant and gate)',
    section: OUTPUT,
  }),
  ...OUTPUT_OPTIONS,
};

const compareSchema = tableSchema(COMPARE_OPTIONS);

export type CompareOptions = TableOutput<typeof COMPARE_OPTIONS>;
/** What the library's `compareBundles` takes (every option optional, the command's defaults). */
export type CompareBundlesOptions = Omit<ApiInput<typeof COMPARE_OPTIONS>, 'md' | 'junit'> & {
  onProgress?: (line: string) => void;
};

export function parseCompareOptions(input: unknown, style: 'cli' | 'api'): CompareOptions {
  return parseTable(COMPARE_OPTIONS, compareSchema, input, style);
}
