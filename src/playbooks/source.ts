import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

import type { DocumentPath } from './problems.js';

export interface Position {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface ParsedSource {
  readonly file: string;
  readonly value: unknown;
  /** YAML syntax errors, already placed. */
  readonly syntaxErrors: ReadonlyArray<{ message: string; position: Position }>;
  /** Where the node at `path` starts (or its key, with `atKey`); the nearest existing parent when the path is absent. */
  locate(path: DocumentPath, atKey?: boolean): Position;
}

/**
 * Parses a playbook file keeping positions (the `yaml` package's
 * LineCounter), so every error can say file:line:column.
 */
export function parseSource(file: string, text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const document: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const syntaxErrors = [...document.errors, ...document.warnings.filter((warning) => warning.code !== 'TAG_RESOLVE_FAILED')].map((error) => ({
    message: error.message.split('\n')[0] ?? error.message,
    position: position(error.pos[0]),
  }));
  const value: unknown = document.errors.length > 0 ? undefined : document.toJS({ maxAliasCount: 100 });

  const locate = (path: DocumentPath, atKey = false): Position => {
    let node: unknown = document.contents;
    let offset = document.contents?.range?.[0] ?? 0;
    for (const [index, part] of path.entries()) {
      const last = index === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === part);
        if (pair === undefined) break;
        const keyNode = pair.key as Node | null;
        if (last && atKey && keyNode?.range) return position(keyNode.range[0]);
        node = pair.value;
        const range = (pair.value as Node | null)?.range ?? keyNode?.range;
        if (range) offset = range[0];
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part] as Node | undefined;
        if (!item?.range) break;
        node = item;
        offset = item.range[0];
      } else break;
    }
    return position(offset);
  };
  return { file, value, syntaxErrors, locate };
}
