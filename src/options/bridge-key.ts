import { BRIDGE_OPTIONS, OUTPUT_OPTIONS } from './common.js';

/** `rapidfit-export bridge key`: the interpreter it keys on, and the output options. */
export const BRIDGE_KEY_OPTIONS = { python: BRIDGE_OPTIONS.python, json: OUTPUT_OPTIONS.json };
