import { z } from 'zod';
import { OUTPUT_OPTIONS } from './common.js';
import { text } from './table.js';

/** `rapidfit-export verify <bundle>`. */
export const VERIFY_OPTIONS = {
  junit: text(z.string().min(1).optional(), {
    arg: '<file>',
    help: 'also write the gates as JUnit XML (one test case per task and gate)',
  }),
  ...OUTPUT_OPTIONS,
};
