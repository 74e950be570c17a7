import { CST, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, visit, type Document, type Node } from 'yaml';

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
 * How deeply a playbook file may nest mappings and lists. The deepest real
 * playbook is about ten levels (playbook, match, any, a branch, not, a
 * field's operators…); the compiler, json-rules-engine and the yaml package
 * all recurse once per level, so a file 2,000 levels deep would end in a
 * stack overflow instead of a problem at file:line:column.
 */
export const MAX_NESTING = 64;

/**
 * How many nodes aliases may expand to (yaml's `maxAliasCount`): enough for
 * anchors shared by a few playbooks (`exempt: *standard`), far below what a
 * "billion laughs" file needs to exhaust memory.
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * Where the source nests deeper than `MAX_NESTING`, read from yaml's
 * concrete syntax tree: its parser keeps an explicit stack, so measuring
 * here cannot overflow, whereas composing the document would recurse once
 * per level.
 */
function tooDeepAt(text: string, lineCounter: LineCounter): number | undefined {
  const pending: Array<readonly [CST.Token, number]> = [];
  for (const token of new Parser((offset) => lineCounter.addNewLine(offset)).parse(text)) if (token.type === 'document' && token.value !== undefined) pending.push([token.value, 1]);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [token, depth] = next;
    if (!CST.isCollection(token)) continue;
    if (depth > MAX_NESTING) return token.offset;
    for (const item of token.items) {
      if (item.key !== undefined && item.key !== null) pending.push([item.key, depth + 1]);
      if (item.value !== undefined) pending.push([item.value, depth + 1]);
    }
  }
  return undefined;
}

/** How deeply a composed value nests (aliases can nest one anchor inside another), walked without recursion. */
function nestingOf(value: unknown): number {
  let deepest = 0;
  const pending: Array<readonly [unknown, number]> = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > MAX_NESTING) return deepest;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Parses a playbook file keeping positions (the `yaml` package's
 * LineCounter), so every error can say file:line:column. Hostile input (alias
 * bombs, deep nesting) becomes a placed syntax error, never an exception.
 */
export function parseSource(file: string, text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const deepAt = tooDeepAt(text, lineCounter);
  if (deepAt !== undefined) {
    const where = position(deepAt);
    return { file, value: undefined, syntaxErrors: [{ message: `nests deeper than ${MAX_NESTING} levels; a playbook needs far fewer`, position: where }], locate: () => where };
  }

  // The depth check has filled the line counter already.
  const document: Document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const syntaxErrors = [...document.errors, ...document.warnings.filter((warning) => warning.code !== 'TAG_RESOLVE_FAILED')].map((error) => ({
    message: error.message.split('\n')[0] ?? error.message,
    position: position(error.pos[0]),
  }));
  let value: unknown;
  if (document.errors.length === 0) {
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // yaml refuses an alias that would expand past maxAliasCount with a ReferenceError, without a position.
      syntaxErrors.push({ message: `${error instanceof Error ? error.message : String(error)} (more than ${MAX_ALIAS_COUNT} alias expansions)`, position: position(firstAliasOffset(document)) });
    }
    if (syntaxErrors.length === 0 && nestingOf(value) > MAX_NESTING) {
      syntaxErrors.push({ message: `aliases nest deeper than ${MAX_NESTING} levels; a playbook needs far fewer`, position: position(firstAliasOffset(document)) });
      value = undefined;
    }
  }

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

/** Where the first alias is: the closest place to point at when aliases expand too far. */
function firstAliasOffset(document: Document): number {
  let offset = document.contents?.range?.[0] ?? 0;
  visit(document, {
    Alias(_, node) {
      if (isAlias(node) && node.range) offset = node.range[0];
      return visit.BREAK;
    },
  });
  return offset;
}
