import { describe, expect, it } from 'vitest';

import { neutralise, neutraliseJson } from '../src/neutralise.js';

/** Every character the issue names: C0 (with ESC), DEL, C1, the bidi controls, the line and paragraph separators. */
const UNSAFE: readonly number[] = [
  ...Array.from({ length: 0x20 }, (_, code) => code),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, index) => 0x80 + index),
  0x061c,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
];

describe('neutralise', () => {
  it('shows an ESC sequence that would clear the screen and set the window title as visible escapes', () => {
    const title = 'Backdoor \u001b[2J\u001b]0;pwned\u0007 on i-0abc';

    expect(neutralise(title)).toBe('Backdoor \\u001b[2J\\u001b]0;pwned\\u0007 on i-0abc');
  });

  it('keeps a title with a newline on one line: "ok\\nFORGED: all clear"', () => {
    expect(neutralise('ok\nFORGED: all clear\r\n\tx')).toBe('ok\\nFORGED: all clear\\r\\n\\tx');
  });

  it('shows bidi overrides and isolates (Trojan Source) instead of letting them reorder the text', () => {
    expect(neutralise('i-0abc\u202e\u2066txt.exe\u2069\u200f\u061c')).toBe('i-0abc\\u202e\\u2066txt.exe\\u2069\\u200f\\u061c');
  });

  it('replaces every C0, DEL, C1, bidi control and line or paragraph separator, and nothing else', () => {
    for (const code of UNSAFE) {
      const character = String.fromCharCode(code);
      const shown = neutralise(`a${character}b`);
      expect(shown, `U+${code.toString(16).padStart(4, '0')}`).not.toContain(character);
      expect(shown).toMatch(/^a\\(n|r|t|u[0-9a-f]{4})b$/);
    }
    const harmless = 'Zugriff verweigert — 拒绝访问 — مرفوض — 🚨 C:\\temp "quoted" = a\u00a0b';
    expect(neutralise(harmless)).toBe(harmless);
  });
});

describe('neutraliseJson', () => {
  it('escapes what JSON.stringify leaves raw (DEL, C1 CSI, bidi, U+2028) and parses back to the same value', () => {
    const value = { title: 'x\u009b2J\u007f\u202eevil\u2028line', nested: ['\u001b[31m'], n: 1 };
    const json = JSON.stringify(value, null, 2);

    const safe = neutraliseJson(json);

    expect(safe).toContain('\\u009b2J\\u007f\\u202eevil\\u2028line');
    expect(safe).not.toMatch(/[\u007f-\u009f\u202a-\u202e\u2028]/);
    expect(JSON.parse(safe)).toEqual(value);
    // The layout stays: one key a line.
    expect(safe.split('\n')).toHaveLength(json.split('\n').length);
  });
});
