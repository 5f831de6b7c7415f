/** The seed of the verification samples' order and of the INT8 calibration split. */
export const SAMPLE_SEED = 20251125;
