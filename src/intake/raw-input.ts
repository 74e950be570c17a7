import { EventTooLargeError, ForbiddenKeyError, MalformedEventError } from './errors.js';
import { formatPath } from './field-path.js';

/** EventBridge's limit for one event (and so for anything Riposte accepts as one). */
export const MAX_EVENT_BYTES = 256 * 1024;

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
  const bytes = byteLengthOf(input, source);
  if (bytes > maxBytes) throw new EventTooLargeError(source, bytes, maxBytes);

  let value: unknown = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const text = input.toString();
    if (text.trim() === '') throw new MalformedEventError('is empty', source);
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new MalformedEventError(`is not valid JSON (${(error as Error).message})`, source, undefined, error);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new MalformedEventError(`must be a JSON object, got ${kind}`, source);
  }
  assertSafeKeys(value, source);
  return value as JsonObject;
}
