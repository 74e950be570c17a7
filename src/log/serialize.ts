import { RiposteError, serializeError } from '../errors.js';

/** Deeper structures are cut: a log line is for reading, not for dumping object graphs. */
const MAX_DEPTH = 8;

const describeFailure = (error: unknown): string => {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'unknown';
  }
};

function errorValue(error: Error, ancestors: object[], depth: number): Record<string, unknown> {
  let base: Record<string, unknown>;
  if (error instanceof RiposteError) {
    base = { ...serializeError(error) };
  } else {
    // Not serializeError's shape for a foreign error: a log line is where its stack and status are read, the ledger keeps neither.
    base = { name: error.name, message: error.message };
    const shape = error as { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
    // Node's socket errors and the SDK's service errors say the most in these two fields.
    if (typeof shape.code === 'string') base.code = shape.code;
    if (typeof shape.$metadata?.httpStatusCode === 'number') base.statusCode = shape.$metadata.httpStatusCode;
    if (typeof error.stack === 'string') base.stack = error.stack;
  }
  if (error.cause !== undefined) base.cause = error.cause;
  return walk(base, ancestors, depth) as Record<string, unknown>;
}

function objectValue(value: object, ancestors: object[], depth: number): unknown {
  if (value instanceof Error) return errorValue(value, ancestors, depth);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
  if (value instanceof ArrayBuffer) return `[ArrayBuffer ${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((item) => walk(item, ancestors, depth + 1) ?? null);
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([key, item]) => [String(key), walk(item, ancestors, depth + 1)]));
  if (value instanceof Set) return [...value].map((item) => walk(item, ancestors, depth + 1) ?? null);
  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') {
    const json = (withToJson.toJSON as () => unknown).call(value);
    return json === value ? '[Unserializable: toJSON returned itself]' : walk(json, ancestors, depth + 1);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    let item: unknown;
    try {
      item = walk((value as Record<string, unknown>)[key], ancestors, depth + 1);
    } catch (error) {
      // A throwing getter spoils one field, not the line.
      item = `[Unserializable: ${describeFailure(error)}]`;
    }
    if (item !== undefined) Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function walk(value: unknown, ancestors: object[], depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.includes(object)) return '[Circular]';
  if (depth > MAX_DEPTH) return '[Truncated]';
  ancestors.push(object);
  try {
    return objectValue(object, ancestors, depth);
  } catch (error) {
    return `[Unserializable: ${describeFailure(error)}]`;
  } finally {
    ancestors.pop();
  }
}

/**
 * Any value as a JSON-safe one, without throwing: errors serialized (a
 * Riposte error through its `toJSON()`, others as `{ name, message, stack }`,
 * each with its `cause`), bigints and non-finite numbers as strings, dates
 * as ISO strings, maps and sets as objects and arrays, cycles as
 * `"[Circular]"`, anything deeper than 8 levels as `"[Truncated]"`.
 */
export function toLogValue(value: unknown): unknown {
  return walk(value, [], 0);
}

/** Attributes as JSON-safe values; `undefined` ones are dropped, as JSON drops them. */
export function toLogAttributes(attributes: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  if (attributes === undefined || attributes === null) return {};
  const value = toLogValue(attributes);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return { attributes: value };
}

/**
 * Keys Powertools writes itself and drops from attributes (with a warning
 * line of its own): an attribute so named is written as `_<key>` instead.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

/** Attributes as the Powertools logger receives them: JSON-safe, with its reserved keys renamed. */
export function powertoolsAttributes(attributes: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const safe = toLogAttributes(attributes);
  if (!Object.keys(safe).some((key) => RESERVED_KEYS.has(key))) return safe;
  return Object.fromEntries(Object.entries(safe).map(([key, value]) => [RESERVED_KEYS.has(key) ? `_${key}` : key, value]));
}
