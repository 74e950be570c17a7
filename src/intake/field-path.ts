import type * as z from '../zod.js';

/** `['detail', 'findings', 1, 'AwsAccountId']` -> `detail.findings[1].AwsAccountId`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    // Keys that are not plain names (empty, dotted, spaced) are quoted so the path stays unambiguous.
    else if (typeof part !== 'string' || !/^[A-Za-z_$][\w$:-]*$/.test(part)) out += `[${JSON.stringify(String(part))}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

/** The first zod issue as "field" + "what is wrong", the way intake errors report it. */
export function describeIssue(error: z.core.$ZodError, prefix = ''): { field: string; message: string } {
  // An unknown key is reported first: a misspelt field usually also makes the
  // real one "missing", and the misspelling is what the sender needs to see.
  const issue = error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? error.issues[0];
  if (issue === undefined) return { field: prefix || '(root)', message: 'is invalid' };
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => `"${key}"`).join(', ');
    return { field: formatPath([...issue.path, ...issue.keys.slice(0, 1)], prefix), message: `is not a known field (unknown: ${keys})` };
  }
  const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
  return { field: formatPath(issue.path, prefix), message: missing ? 'is missing' : issue.message.replace(/^Invalid input: /, 'is invalid: ') };
}

/**
 * What `schema` reads from `value`; else the error `reject` makes of the
 * first issue (see {@link describeIssue}), its field placed under `prefix`.
 */
export function parseOrThrow<Schema extends z.ZodMiniType>(schema: Schema, value: unknown, reject: (message: string, field: string) => Error, prefix = ''): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { field, message } = describeIssue(parsed.error, prefix);
  throw reject(message, field);
}
