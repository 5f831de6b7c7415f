import { z } from 'zod';
import { OUTPUT_OPTIONS } from './common.js';
import { text } from './table.js';

/** `rapidfit-export report <bundle>`. */
export const REPORT_OPTIONS = {
  html: text(z.string().min(1).optional(), {
    arg: '<file>',
    help: 'write the HTML report (self-contained: inline CSS and SVG) to this file',
  }),
  md: text(z.string().min(1).optional(), {
    arg: '<file>',
    help: 'write the Markdown report to this file (with neither option, it goes to stdout)',
  }),
  ...OUTPUT_OPTIONS,
};
