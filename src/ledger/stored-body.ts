import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/*
 * A run keeps the event it acted on, and the finding intake made of it, for
 * audit and for resume and rollback. Together they can pass DynamoDB's
 * 400 KB item limit: EventBridge delivers events of up to 256 KB, and the
 * normalized finding repeats much of its record. So a run item holds them
 * only while they are small; larger ones are stored beside it, compressed
 * and cut into parts, under the SHA-256 of their JSON, which the run item
 * keeps either way (the hash proves what the run acted on).
 */

/** The JSON of the received event and the finding together, up to which they stay inside the run item (leaving room for its steps and history). */
export const INLINE_BODY_BYTES = 64 * 1024;

/** The compressed bytes one part item holds: well below the item limit, with room for its keys. */
export const BODY_PART_BYTES = 256 * 1024;

/** A JSON value as stored: its text, and the SHA-256 (hex) of that text. */
export interface StoredBody {
  readonly json: string;
  readonly sha256: string;
}

export function storedBody(value: unknown): StoredBody {
  // `undefined` has no JSON; it is stored as `null`, which is what a JSON round trip gives back anyway.
  const json = JSON.stringify(value) ?? 'null';
  return { json, sha256: createHash('sha256').update(json, 'utf8').digest('hex') };
}

/** The body compressed and cut into parts of at most `BODY_PART_BYTES`. */
export function bodyParts(body: StoredBody): Uint8Array[] {
  const compressed = gzipSync(Buffer.from(body.json, 'utf8'));
  const parts: Uint8Array[] = [];
  for (let start = 0; start < compressed.length; start += BODY_PART_BYTES) parts.push(compressed.subarray(start, start + BODY_PART_BYTES));
  return parts;
}

/**
 * The value back from its parts, in order.
 * @throws Error when the parts do not decompress, or do not hash to `sha256` (a part is missing, or the store was changed).
 */
export function bodyFromParts(parts: readonly Uint8Array[], sha256: string): unknown {
  const json = gunzipSync(Buffer.concat(parts)).toString('utf8');
  const actual = createHash('sha256').update(json, 'utf8').digest('hex');
  if (actual !== sha256) throw new Error(`the stored body hashes to ${actual}, not ${sha256}`);
  return JSON.parse(json);
}
