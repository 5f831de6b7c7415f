import { gatherRewriter } from './gather.js';
import { matmulRewriter } from './matmul.js';
import type { OperatorRewriter } from './rewriter.js';

/** Op type -> rewriter (ONNX Runtime's IntegerOpsRegistry, for what this quantizer implements). Gemm is rewritten to MatMul first. */
export const OPERATOR_REWRITERS: Readonly<Record<string, OperatorRewriter>> = {
  MatMul: matmulRewriter,
  Gather: gatherRewriter,
};

export const IMPLEMENTED_OP_TYPES: readonly string[] = Object.keys(OPERATOR_REWRITERS);
