/**
 * Text from a finding (a title, an id, a note, an error message quoting
 * them) is written by whoever could import the finding. Where a person reads
 * it — a terminal, a pretty log line, an SNS e-mail, a Security Hub note —
 * characters that steer the reader's display instead of being shown must
 * not pass: an ESC starts a terminal sequence (clear the screen, set the
 * window title, rewrite earlier lines), a line break forges a line of its
 * own, a bidi control reorders what follows it (`Trojan Source`,
 * CVE-2021-42574).
 *
 * Sits at the bottom of the module graph: the log formatters, the actions,
 * the recorder and the CLI all use it.
 */

/**
 * What {@link neutralise} replaces:
 * - C0 controls U+0000–U+001F (NUL, ESC, BEL, CR, LF, TAB…) and DEL U+007F;
 * - C1 controls U+0080–U+009F (CSI U+009B and OSC U+009D act like ESC [ and ESC ] on some terminals);
 * - the Arabic letter mark U+061C, LRM/RLM U+200E/U+200F;
 * - bidi embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069;
 * - line and paragraph separators U+2028/U+2029 (line breaks to many readers).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's purpose
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The same set but for the line feed: raw line feeds in JSON text are its own layout, never part of a value. */
// eslint-disable-next-line no-control-regex -- as above
const UNSAFE_IN_JSON = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Escapes a reader knows at sight; every other character is shown as `\uXXXX`. */
const SHORT_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
]);

const unicodeEscape = (character: string): string => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `text` made safe to show on one line: every control character (C0, DEL,
 * C1), bidi control and line or paragraph separator is replaced by a
 * visible escape (`\n`, `\t`, `\u001b`, `\u202e`), so the reader sees that
 * it was there and nothing is silently dropped. Everything else, including
 * accents, emoji and right-to-left letters, is kept as is. (Backslashes are
 * not doubled: the escapes are for a person to read, not to be decoded.)
 *
 * ```ts
 * neutralise('Backdoor\u001b]0;pwned\u0007 on i-0abc\nFORGED LINE');
 * // 'Backdoor\\u001b]0;pwned\\u0007 on i-0abc\\nFORGED LINE'
 * ```
 */
export function neutralise(text: string): string {
  return text.replace(UNSAFE, (character) => SHORT_ESCAPES.get(character) ?? unicodeEscape(character));
}

/**
 * JSON text (as `JSON.stringify` writes it, indented or not) made safe for
 * the same readers, and still the same JSON: the characters
 * {@link neutralise} replaces are written as JSON `\uXXXX` escapes, which
 * parse back to the very same value. `JSON.stringify` already escapes C0
 * controls inside strings; this adds DEL, C1, bidi controls and U+2028/2029.
 * Line feeds outside strings (the indentation) are kept.
 */
export function neutraliseJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, unicodeEscape);
}
