import { describe, expect, it } from 'vitest';

import { freeSlot } from '../../src/ledger/rules.js';

describe('freeSlot', () => {
  it('answers the first slot below the limit that nobody holds', () => {
    expect(freeSlot(new Map(), 3)).toBe(0);
    expect(freeSlot(new Map([[0, 'a']]), 3)).toBe(1);
    expect(freeSlot(new Map([[1, 'a']]), 3)).toBe(0);
    expect(
      freeSlot(
        new Map([
          [0, 'a'],
          [2, 'b'],
        ]),
        3,
      ),
    ).toBe(1);
    expect(
      freeSlot(
        new Map([
          [0, 'a'],
          [1, 'b'],
          [2, 'c'],
        ]),
        3,
      ),
    ).toBeUndefined();
    // A slot beyond a lowered limit does not count.
    expect(
      freeSlot(
        new Map([
          [0, 'a'],
          [5, 'b'],
        ]),
        2,
      ),
    ).toBe(1);
    expect(
      freeSlot(
        new Map([
          [0, 'a'],
          [1, 'b'],
          [5, 'c'],
        ]),
        2,
      ),
    ).toBeUndefined();
  });

  // Issue 11: the search is bounded by what is held (`held.size + 1` slots at
  // most), so a limit of 9007199254740991 never sends it walking towards the
  // limit, whatever the map holds.
  it('answers at once under a limit of 2^53 - 1 with 10,000 slots held, and refuses at a limit of 10,000', () => {
    const held = new Map(Array.from({ length: 10_000 }, (_, index): [number, string] => [index, `r-${index}`]));

    expect(freeSlot(held, Number.MAX_SAFE_INTEGER)).toBe(10_000);
    expect(freeSlot(held, 10_000)).toBeUndefined();
  });
});
