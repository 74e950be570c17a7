/** Where in a playbook something is wrong: a path of keys and indexes from the document root. */
export type DocumentPath = readonly (string | number)[];

/** One thing wrong in a playbook, before it is placed in a file. */
export interface Problem {
  readonly path: DocumentPath;
  readonly message: string;
  /** What was probably meant, where that is obvious. */
  readonly suggestion?: string;
  /** Point at the key itself rather than its value (an unknown key). */
  readonly atKey?: boolean;
}

export function problem(path: DocumentPath, message: string, extra: { suggestion?: string | undefined; atKey?: boolean } = {}): Problem {
  return {
    path,
    message,
    ...(extra.suggestion === undefined ? {} : { suggestion: extra.suggestion }),
    ...(extra.atKey === true ? { atKey: true } : {}),
  };
}

export function formatDocumentPath(path: DocumentPath): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`), '');
}
