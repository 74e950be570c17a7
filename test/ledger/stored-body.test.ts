import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { BODY_PART_BYTES, bodyFromParts, bodyParts, storedBody } from '../../src/ledger/stored-body.js';

describe('stored bodies', () => {
  it('cuts a body larger than one part into parts of at most BODY_PART_BYTES, and puts it back together exactly', () => {
    // Random bytes as latin1 text: JSON escapes make it larger, and compression cannot shrink it below two parts.
    const value = { record: { Description: randomBytes(400 * 1024).toString('latin1'), big: 2 ** 60, nested: [null, 'é', '😀'] } };
    const body = storedBody(value);
    const parts = bodyParts(body);

    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(BODY_PART_BYTES);
    expect(bodyFromParts(parts, body.sha256)).toEqual(JSON.parse(body.json));
  });

  it('refuses parts that are missing one, or that hash to something else', () => {
    const body = storedBody({ record: randomBytes(400 * 1024).toString('latin1') });
    const parts = bodyParts(body);

    expect(() => bodyFromParts(parts.slice(0, -1), body.sha256)).toThrow();
    expect(() => bodyFromParts(bodyParts(storedBody({ other: true })), body.sha256)).toThrow(/hashes to/);
  });

  it('stores undefined as null, which is what it reads back as', () => {
    const body = storedBody(undefined);
    expect(body.json).toBe('null');
    expect(bodyFromParts(bodyParts(body), body.sha256)).toBeNull();
  });
});
