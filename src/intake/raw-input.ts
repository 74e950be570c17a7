import { EventTooLargeError, ForbiddenKeyError, MalformedEventError } from './errors.js';
import { formatPath } from './field-path.js';

/** EventBridge's limit for one event (and so for anything Riposte accepts as one). */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * How much text may carry one event: four times {@link MAX_EVENT_BYTES}.
 * EventBridge counts the event it sends, compact JSON; the same event kept
 * in a file or typed in is often indented (an event at the limit, indented
 * by two spaces, takes about 1.3 times as much). Text up to this size is
 * parsed and held to MAX_EVENT_BYTES as compact JSON; longer text is refused
 * before it is parsed, and `riposte intake` reads no more of a file.
 */
export const MAX_EVENT_TEXT_BYTES = 4 * MAX_EVENT_BYTES;

/** Keys that could reach `Object.prototype` if the event were ever merged into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Real events nest a dozen levels; far deeper is an attack or a bug, and recursion must stay bounded. */
const MAX_DEPTH = 64;

export type JsonObject = { readonly [key: string]: unknown };

/**
 * Walks the parsed input iteratively (deep input cannot overflow the stack)
 * and rejects forbidden keys, naming the path where each was found.
 */
function assertSafeKeys(value: unknown, source: string): void {
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as { value: unknown; path: PropertyKey[] };
    if (current === null || typeof current !== 'object') continue;
    if (path.length > MAX_DEPTH) {
      throw new MalformedEventError(`is nested deeper than ${MAX_DEPTH} levels`, source, formatPath(path));
    }
    if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
      continue;
    }
    for (const key of Object.keys(current)) {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKeyError(source, formatPath([...path, key]), key);
      stack.push({ value: (current as JsonObject)[key], path: [...path, key] });
    }
  }
}

function byteLengthOf(input: unknown, source: string): number {
  if (typeof input === 'string') return Buffer.byteLength(input, 'utf8');
  if (Buffer.isBuffer(input)) return input.byteLength;
  try {
    const text = JSON.stringify(input);
    return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
  } catch (error) {
    throw new MalformedEventError('cannot be represented as JSON', source, undefined, error);
  }
}

/**
 * Turns what a handler or the CLI received (a JSON string, a Buffer, or an
 * object the Lambda runtime already parsed) into a plain JSON object that is
 * safe to read: within the size limit, with no prototype-polluting keys.
 *
 * @param source names the input in errors (`event`, a file name, `api`).
 */
export function readJsonObject(input: unknown, source: string, maxBytes = MAX_EVENT_BYTES): JsonObject {
  const isText = typeof input === 'string' || Buffer.isBuffer(input);
  const bytes = byteLengthOf(input, source);
  // Text may be indented; past four times the limit it cannot hold a compact event under it anyway.
  if (bytes > (isText ? maxBytes * (MAX_EVENT_TEXT_BYTES / MAX_EVENT_BYTES) : maxBytes)) throw new EventTooLargeError(source, bytes, maxBytes);

  let value: unknown = input;
  if (isText) {
    const text = input.toString();
    if (text.trim() === '') throw new MalformedEventError('is empty', source);
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new MalformedEventError(`is not valid JSON (${(error as Error).message})`, source, undefined, error);
    }
    // Over the limit as written: measured again as EventBridge measures it, compact.
    if (bytes > maxBytes) {
      const compact = byteLengthOf(value, source);
      if (compact > maxBytes) throw new EventTooLargeError(source, compact, maxBytes);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new MalformedEventError(`must be a JSON object, got ${kind}`, source);
  }
  assertSafeKeys(value, source);
  return value as JsonObject;
}
