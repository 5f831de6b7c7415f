import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describeFirstIssue } from '../config/zod-issues.js';
import { ExitCode, ToolError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { BridgeClient, RequestOptions } from './client.js';

/** The bridge's method names, shared with Python: python-bridge/src/rapidfit_bridge/methods.json (handlers.py checks its HANDLERS against it). */
const METHODS_FILE = join(PACKAGE_ROOT, 'python-bridge', 'src', 'rapidfit_bridge', 'methods.json');

export function sharedMethodNames(): string[] {
  return (JSON.parse(readFileSync(METHODS_FILE, 'utf8')) as { methods: string[] }).methods;
}

const path = z.string().min(1);
const taskName = z.string().optional();
const inputNames = z.array(z.string()).optional();
const noParams = z.object({}).strict();

/**
 * Request and response of every bridge method, checked at the boundary: a request the schema refuses
 * is a bug on this side, a response it refuses a bug on the other (exit 1 either way, naming the method).
 * Keys are the protocol's (snake_case, as Python reads them).
 */
export const BRIDGE_METHODS = {
  versions: { params: noParams, result: z.record(z.string(), z.string().nullable()) },
  ping: { params: noParams, result: z.object({ pong: z.literal(true) }) },
  diagnose: {
    params: noParams,
    result: z.object({
      stdout_isolated: z.boolean(),
      threads: z.number().int(),
      /** The cyclic collector: off until the first model is loaded, then on with the start-up heap frozen (heap.py). */
      gc: z.object({ enabled: z.boolean(), frozen: z.number().int() }),
    }),
  },
  /** The model's facts: validated in full, with messages for the user, by parseModelFacts (src/export/model-spec.ts). */
  inspect: { params: z.object({ model_dir: path, task_name: taskName }), result: z.unknown() },
  export: {
    params: z.object({
      model_dir: path,
      task_name: taskName,
      tasks: z.array(z.string()).optional(),
      opset: z.number().int().optional(),
      max_length: z.number().int().optional(),
      exporter: z.enum(['torchscript', 'dynamo']).optional(),
      out_dir: path,
      mode: z.enum(['shared', 'per-task']).optional(),
      infer_shapes: z.boolean().optional(),
    }),
    result: z.object({
      files: z.record(z.string(), z.object({ file: path, output: z.string() })),
      seconds: z.number(),
      tasks: z.array(z.string()),
    }),
  },
  save_tokenizer: {
    params: z.object({ model_dir: path, out_dir: path, input_names: inputNames }),
    result: z.object({ files: z.array(z.string()) }),
  },
  check_tokenizer: {
    params: z.object({
      model_dir: path,
      tokenizer_dir: path,
      texts: z.array(z.string()),
      max_length: z.number().int().optional(),
      input_names: inputNames,
    }),
    result: z.object({ same: z.boolean(), detail: z.string() }),
  },
  tokenize: {
    params: z.object({
      model_dir: path,
      texts: z.array(z.string()),
      max_length: z.number().int().optional(),
      out_dir: path,
    }),
    result: z.object({ input_ids: path, attention_mask: path, shape: z.array(z.number().int()) }),
  },
  predict: {
    params: z.object({
      model_dir: path,
      task_name: taskName,
      tasks: z.array(z.string()).optional(),
      input_ids: path,
      attention_mask: path,
      out_dir: path,
    }),
    result: z.object({ files: z.record(z.string(), path) }),
  },
} as const;

export type BridgeMethod = keyof typeof BRIDGE_METHODS;
export type BridgeParams<M extends BridgeMethod> = z.input<(typeof BRIDGE_METHODS)[M]['params']>;
export type BridgeResult<M extends BridgeMethod> = z.output<(typeof BRIDGE_METHODS)[M]['result']>;

/** One typed bridge call: the params checked before they are sent, the result checked when it comes back. */
export async function callBridge<M extends BridgeMethod>(
  client: BridgeClient,
  method: M,
  params: BridgeParams<M>,
  options: RequestOptions = {},
): Promise<BridgeResult<M>> {
  const schemas = BRIDGE_METHODS[method];
  const request = schemas.params.safeParse(params);
  if (!request.success)
    throw new ToolError(
      ExitCode.internal,
      `bridge method "${method}": invalid request (${describeFirstIssue(request.error)})`,
    );
  const raw = await client.request<unknown>(method, request.data, options);
  const result = schemas.result.safeParse(raw);
  if (!result.success)
    throw new ToolError(
      ExitCode.internal,
      `bridge method "${method}": unexpected response (${describeFirstIssue(result.error)})`,
    );
  return result.data as BridgeResult<M>;
}
