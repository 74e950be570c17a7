/**
 * Any character `neutralise` must never let through to a reader: C0 controls
 * but the line feed (text that is meant to have lines keeps them between
 * lines), DEL, C1, bidi controls, line and paragraph separators. Tests of a
 * sink check its output against this, written independently of
 * src/neutralise.ts so it is not checked by itself.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNSAFE_TEXT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** {@link UNSAFE_TEXT} with the line feed too: for output that must be one line. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
