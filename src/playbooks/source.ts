import { Composer, CST, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, visit, YAMLParseError, type Document, type Node, type Pair, type YAMLMap } from 'yaml';

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
 * concrete syntax tree without recursion, before composing the document
 * (which recurses once per level). yaml's parser itself keeps flow levels
 * on an explicit stack but recurses through open block collections when
 * a dedent closes them: parseSource catches it running out of stack.
 */
function tooDeepAt(tokens: readonly CST.Token[]): number | undefined {
  const pending: Array<readonly [CST.Token, number]> = [];
  for (const token of tokens) if (token.type === 'document' && token.value !== undefined) pending.push([token.value, 1]);
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

const isStackOverflow = (error: unknown): boolean => error instanceof RangeError && /call stack/i.test(error.message);

/**
 * Where `text` nests past MAX_NESTING by a lexical upper bound, for when
 * yaml's parser cannot say: every column of indentation, every compact
 * `- ` or `? ` at a line's start and every open `[` or `{` counted as a
 * level. Only ever used to place the problem of a text the parser ran out
 * of stack on; the first line at its deepest when the bound never passes.
 */
function estimatedTooDeepAt(text: string): number {
  let flow = 0;
  let deepest = { levels: -1, offset: 0 };
  let lineStart = 0;
  for (const line of text.split('\n')) {
    let index = 0;
    while (line[index] === ' ') index += 1;
    let levels = index;
    while ((line[index] === '-' || line[index] === '?') && (line[index + 1] === ' ' || line[index + 1] === undefined)) {
      levels += 1;
      if (levels + flow > MAX_NESTING) return lineStart + index;
      index += 2;
    }
    for (; index < line.length; index += 1) {
      const char = line[index];
      if (char === '[' || char === '{') flow += 1;
      else if ((char === ']' || char === '}') && flow > 0) flow -= 1;
      if (levels + flow > MAX_NESTING) return lineStart + index;
    }
    if (levels + flow > deepest.levels) deepest = { levels: levels + flow, offset: lineStart };
    lineStart += line.length + 1;
  }
  return deepest.offset;
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
  let lineCounter = new LineCounter();
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  // The syntax tree, parsed once: measured for depth here, composed into the document below.
  let tokens: CST.Token[] = [];
  let deepAt: number | undefined;
  try {
    tokens = [...new Parser((offset) => lineCounter.addNewLine(offset)).parse(text)];
    deepAt = tooDeepAt(tokens);
  } catch (error) {
    // yaml's parser recurses once per open block collection: compact sequences (`- - - … {}`, two bytes a level)
    // run it out of stack before the depth can be measured. Deeper than that is far deeper than MAX_NESTING.
    if (!isStackOverflow(error)) throw error;
    lineCounter = new LineCounter();
    lineCounter.addNewLine(0);
    for (let offset = text.indexOf('\n'); offset !== -1; offset = text.indexOf('\n', offset + 1)) lineCounter.addNewLine(offset + 1);
    deepAt = estimatedTooDeepAt(text);
  }
  if (deepAt !== undefined) {
    const where = position(deepAt);
    return { file, value: undefined, syntaxErrors: [{ message: `nests deeper than ${MAX_NESTING} levels; a playbook needs far fewer`, position: where }], locate: () => where };
  }

  // As yaml's parseDocument composes, from the tokens above (the parse has filled the line counter). Keys are
  // checked below, in one pass: yaml's own uniqueKeys compares each key with every earlier one, quadratic in a mapping's size.
  let composed: Document | undefined;
  for (const next of new Composer({ uniqueKeys: false }).compose(tokens, true, text.length)) {
    if (composed === undefined) composed = next;
    else {
      composed.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'holds more than one YAML document (---): a playbook file holds one playbook or a list of them'));
      break;
    }
  }
  // compose(…, forceDoc) always makes a document, an empty one for empty text.
  const document = composed as Document;
  const syntaxErrors = [...document.errors, ...document.warnings.filter((warning) => warning.code !== 'TAG_RESOLVE_FAILED')].map((error) => ({
    message: error.message.split('\n')[0] ?? error.message,
    position: position(error.pos[0]),
  }));
  const keyErrors = document.errors.length === 0 ? keyProblems(document).map((problem) => ({ message: problem.message, position: position(problem.offset) })) : [];
  syntaxErrors.push(...keyErrors);
  let value: unknown;
  if (document.errors.length === 0 && keyErrors.length === 0) {
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // yaml refuses an alias that would expand past maxAliasCount with a ReferenceError, and a merge (`<<`, YAML 1.1) of
      // something not a mapping with an Error, both without a position: the first alias is where both begin.
      const message = error instanceof Error ? error.message : String(error);
      syntaxErrors.push({ message: /alias count/i.test(message) ? `${message} (more than ${MAX_ALIAS_COUNT} alias expansions)` : message, position: position(firstAliasOffset(document)) });
    }
    if (syntaxErrors.length === 0 && nestingOf(value) > MAX_NESTING) {
      syntaxErrors.push({ message: `aliases nest deeper than ${MAX_NESTING} levels; a playbook needs far fewer`, position: position(firstAliasOffset(document)) });
      value = undefined;
    }
  }

  // Each mapping's pairs by key, made when a problem is first placed in it: a file with thousands of problems in one mapping is placed in linear time.
  const indexes = new WeakMap<YAMLMap, ReadonlyMap<string, Pair>>();
  const pairsOf = (map: YAMLMap): ReadonlyMap<string, Pair> => {
    let index = indexes.get(map);
    if (index === undefined) {
      const made = new Map<string, Pair>();
      for (const pair of map.items) {
        const key = objectKeyOf(pair.key);
        if (key !== undefined && !made.has(key)) made.set(key, pair);
      }
      index = made;
      indexes.set(map, index);
    }
    return index;
  };
  const locate = (path: DocumentPath, atKey = false): Position => {
    let node: unknown = document.contents;
    let offset = document.contents?.range?.[0] ?? 0;
    for (const [index, part] of path.entries()) {
      const last = index === path.length - 1;
      if (isMap(node)) {
        const pair = pairsOf(node).get(String(part));
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

/**
 * The property name a key becomes in the composed value (as yaml's toJS
 * names it: `null` is `""`, `1` is `"1"`), or undefined for a key that is
 * not a plain value: a list, a mapping, an alias, or a scalar that composes
 * to an object (YAML 1.1's `!!binary`, a timestamp).
 */
function objectKeyOf(key: unknown): string | undefined {
  if (key === null || key === undefined) return '';
  if (!isScalar(key)) return undefined;
  const { value } = key;
  if (value === null || value === undefined) return '';
  // YAML 1.1's merge key `<<` composes to Symbol('<<'): a plain value, merged rather than set.
  if (typeof value === 'symbol') return value.description ?? '';
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : undefined;
}

/**
 * Keys the playbook language cannot hold, in document order: a key that is
 * not a plain value (yaml would print a warning and turn it into its YAML
 * text), and a key given twice in one mapping, `1` and `"1"` included (they
 * name one property, and the later would silently replace the earlier).
 * Walked without recursion, with one set of keys per mapping.
 */
function keyProblems(document: Document): Array<{ message: string; offset: number }> {
  const problems: Array<{ message: string; offset: number }> = [];
  const pending: unknown[] = [document.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (!isMap(node) && !isSeq(node)) continue;
    const seen = new Set<string>();
    const children: unknown[] = [];
    for (const item of node.items as unknown[]) {
      if (!isPair(item)) {
        children.push(item);
        continue;
      }
      const offset = (item.key as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0;
      const key = objectKeyOf(item.key);
      if (key === undefined) problems.push({ message: 'a key must be a plain value (text, a number); a list, a mapping or an alias is not one', offset });
      else if (isMap(node) && seen.has(key))
        problems.push({ message: `${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)} is already a key of this mapping; keys must be unique`, offset });
      else seen.add(key);
      children.push(item.value);
    }
    // Reversed onto the stack, so problems come in document order.
    pending.push(...children.reverse());
  }
  return problems;
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
