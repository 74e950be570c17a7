import type { z } from 'zod';

/** `['detail', 'findings', 1, 'AwsAccountId']` -> `detail.findings[1].AwsAccountId`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** The first zod issue as "field" + "what is wrong", the way intake errors report it. */
export function describeIssue(error: z.ZodError, prefix = ''): { field: string; message: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { field: prefix || '(root)', message: 'is invalid' };
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => `"${key}"`).join(', ');
    return { field: formatPath([...issue.path, ...issue.keys.slice(0, 1)], prefix), message: `is not a known field (unknown: ${keys})` };
  }
  const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
  return { field: formatPath(issue.path, prefix), message: missing ? 'is missing' : issue.message.replace(/^Invalid input: /, 'is invalid: ') };
}
