/** openBridge's options from a command's bridge options; its progress (venv install, start) goes to stderr. */
export function bridgeSessionOptions(values: {
  python?: string | undefined;
  verbose: boolean;
  bridgeTimeoutSeconds?: number | undefined;
}) {
  return {
    ...(values.python ? { python: values.python } : {}),
    ...(values.bridgeTimeoutSeconds === undefined ? {} : { bridgeTimeoutSeconds: values.bridgeTimeoutSeconds }),
    verbose: values.verbose,
    onProgress: (line: string) => process.stderr.write(`${line}\n`),
  };
}
