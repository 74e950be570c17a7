import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { neutralise, neutraliseJson } from '../src/neutralise.js';
import { propertyTimeout, runs } from './support/fast-check.js';
import { UNSAFE_LINE } from './support/unsafe-text.js';

const UNSAFE = UNSAFE_LINE;

/** Text biased towards the characters that matter: controls, bidi, separators, among ordinary letters. */
const hostileText = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 4 }),
      fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)),
      fc.constantFrom('\u061c', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\\u001b'),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

describe('neutralise, for any text', () => {
  it(
    'leaves no control, bidi or separator character, and changes text that has none not at all',
    () => {
      fc.assert(
        fc.property(hostileText, (text) => {
          const shown = neutralise(text);
          expect(shown).not.toMatch(UNSAFE);
          if (!UNSAFE.test(text)) expect(shown).toBe(text);
        }),
        { numRuns: runs(2_000) },
      );
    },
    propertyTimeout(60_000),
  );

  it(
    'neutraliseJson keeps JSON the same value, with no such character left raw',
    () => {
      fc.assert(
        fc.property(fc.jsonValue(), hostileText, (value, text) => {
          const json = JSON.stringify({ value, text }, null, 2);
          const safe = neutraliseJson(json);
          expect(safe.replaceAll('\n', '')).not.toMatch(UNSAFE);
          expect(JSON.parse(safe)).toEqual(JSON.parse(json));
        }),
        { numRuns: runs(1_000) },
      );
    },
    propertyTimeout(60_000),
  );
});
