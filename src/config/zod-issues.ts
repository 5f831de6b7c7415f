import type { z } from 'zod';

/** zod's first problem in a file we read, as "path: message" ("top level" when the whole value is wrong). */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'top level'}: ${issue.message}`;
}
