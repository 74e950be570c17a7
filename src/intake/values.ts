/**
 * Values as producers really send them. GuardDuty writes the string "null"
 * into fields that do not apply (an instance with no profile, a finding with
 * no access key), other producers send empty or blank strings: none of them
 * names anything, so none may become an identifier. Times that do not parse
 * are refused, never carried as text.
 */

/** Placeholders producers put in fields that do not apply. Compared case-insensitively, after trimming. */
const PLACEHOLDERS = new Set(['', 'null', 'undefined', 'none', 'n/a']);

/** Whether `value` is a placeholder rather than a value ("null", "", "  "). */
export function isPlaceholder(value: string): boolean {
  return PLACEHOLDERS.has(value.trim().toLowerCase());
}

/** `value` if it is a string that names something; `undefined` for anything else, placeholders included. */
export function present(value: unknown): string | undefined {
  return typeof value === 'string' && !isPlaceholder(value) ? value : undefined;
}

/** The strings of `value` that name something (placeholders and non-strings dropped). */
export function presentStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(present).filter((item): item is string => item !== undefined) : [];
}

/**
 * ISO 8601 / RFC 3339 date-times as AWS writes them: `2025-03-14T09:15:02.336Z`,
 * with or without fractional seconds, `Z` or an offset. `Date.parse` alone also
 * takes "March 7" or "1", and reads them in the machine's time zone.
 */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Milliseconds since the epoch of an ISO 8601 time; `undefined` when `text` is not one. */
export function isoTimeValue(text: string | undefined): number | undefined {
  if (text === undefined || !ISO_TIME.test(text)) return undefined;
  const value = Date.parse(text);
  if (Number.isNaN(value)) return undefined;
  // Some engines roll 2025-02-30 over to March 2: a day the month lacks is no date.
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day ? value : undefined;
}

/** A time field as read: the time (as sent, when it parses), or why it was refused. */
export type TimeRead = { readonly time?: string; readonly refused?: string };

/**
 * Reads an optional time field. An absent field is simply absent; one that
 * does not parse is refused with a reason naming the field and the value, so
 * what depends on it (idempotency, the loop guard) treats it as unknown
 * instead of comparing text.
 */
export function readTime(value: string | null | undefined, field: string): TimeRead {
  if (value === undefined || value === null) return {};
  if (isoTimeValue(value) !== undefined) return { time: value };
  return { refused: `${field} ${JSON.stringify(value.slice(0, 64))} is not an ISO 8601 time: left out` };
}

/** Collects what a reader refused, for `Finding.refused`. */
export class Refusals {
  readonly #reasons: string[] = [];

  /** The time of `read`, noting its refusal if there is one. */
  time(read: TimeRead): string | undefined {
    if (read.refused !== undefined) this.#reasons.push(read.refused);
    return read.time;
  }

  /** `{ refused }` for a finding, or nothing when every value was taken. */
  spread(): { refused?: readonly string[] } {
    return this.#reasons.length === 0 ? {} : { refused: [...this.#reasons] };
  }
}

/** EC2 ids Riposte reads from findings, by prefix: 8 or 17 hex digits, as EC2 issues them. */
export type Ec2IdPrefix = 'sg' | 'eni' | 'subnet' | 'vpc';

/**
 * `value` if it is a well-formed EC2 id with this prefix (`sg-0a1b2c3d4e5f67890`).
 * GuardDuty's sample findings fill these fields with text such as
 * `GeneratedFindingSecurityId`; that names no resource.
 */
export function ec2Id(prefix: Ec2IdPrefix, value: unknown): string | undefined {
  const text = present(value);
  return text !== undefined && new RegExp(`^${prefix}-[0-9a-f]{8}(?:[0-9a-f]{9})?$`).test(text) ? text : undefined;
}
