import type { AccountExemption } from '../../playbooks/index.js';

/** Resource tags that qualify a tag exemption: when it ends, and who answers for it. */
export const EXEMPTION_TAGS = Object.freeze({
  /** `2027-01-31` (through the end of that day, UTC) or an ISO 8601 timestamp (`2027-01-31T18:00:00Z`). */
  until: 'riposte:exempt-until',
  /** Who to ask about the exemption, e.g. `team@example.com`. */
  owner: 'riposte:exempt-owner',
} as const);

/** Whether a guard lets a playbook change the resource, and why. */
export type ExemptionDecision =
  | {
      readonly exempt: true;
      readonly reason: string;
      readonly by: 'tag' | 'account' | 'excluded-account';
      /** As written, when the exemption has an end. */
      readonly until?: string;
      readonly owner?: string;
    }
  | {
      readonly exempt: false;
      /** Set when an exemption existed but has expired (worth recording: someone meant to protect this). */
      readonly reason?: string;
      readonly until?: string;
      readonly owner?: string;
    };

type Until = { readonly kind: 'none' } | { readonly kind: 'until'; readonly text: string; readonly endsAt: number } | { readonly kind: 'unreadable'; readonly text: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Whether year, month and day name a real calendar day (JavaScript would roll 2027-02-30 over to March 2). */
function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * When an exemption ends, as an instant: a date means through the end of
 * that day in UTC (the exemption ends at the next midnight UTC); a timestamp
 * means that instant (one without a zone is read as UTC).
 */
function parseUntil(text: string | undefined): Until {
  if (text === undefined) return { kind: 'none' };
  const trimmed = text.trim();
  const date = DATE.exec(trimmed);
  if (date !== null) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!isCalendarDay(year, month, day)) return { kind: 'unreadable', text };
    return { kind: 'until', text: trimmed, endsAt: Date.UTC(year, month - 1, day + 1) };
  }
  const stamp = TIMESTAMP.exec(trimmed);
  if (stamp !== null) {
    const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((index) => Number(stamp[index] ?? 0)) as [number, number, number, number, number, number];
    if (!isCalendarDay(year, month, day) || hour > 23 || minute > 59 || second > 59) return { kind: 'unreadable', text };
    // Rebuilt in the one form Date.parse reads the same everywhere: milliseconds, `Z` or `±hh:mm`.
    const millis = (stamp[7] ?? '').slice(0, 3).padEnd(3, '0');
    const zone = stamp[8] === undefined || stamp[8].toUpperCase() === 'Z' ? 'Z' : stamp[8].replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
    const endsAt = Date.parse(`${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6] ?? '00'}.${millis}${zone}`);
    if (Number.isNaN(endsAt)) return { kind: 'unreadable', text };
    return { kind: 'until', text: trimmed, endsAt };
  }
  return { kind: 'unreadable', text };
}

const ownerNote = (owner: string | undefined): string => (owner === undefined ? '' : ` (owner ${owner})`);
const optional = <K extends string>(key: K, value: string | undefined): { [P in K]?: string } => (value === undefined ? {} : ({ [key]: value } as { [P in K]?: string }));

/** Tag values compare this way: case does not matter (`true`, `TRUE`), nor surrounding spaces. */
const sameValue = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Whether the resource's tags exempt it from the playbook.
 *
 * It is exempt when it carries any one of `exemptTags` with that value. Tag
 * keys compare exactly (AWS tag keys are case-sensitive: `Riposte:Exempt`
 * is another tag); values ignore case and surrounding spaces, so
 * `riposte:exempt=TRUE` exempts as `true` does — a person who tagged a
 * resource meant to protect it.
 *
 * `riposte:exempt-until` ends the exemption: `2027-01-31` protects through
 * 23:59:59.999 UTC that day, a timestamp until that instant. Once past, the
 * resource is not exempt and the reason says since when (and whose it was,
 * from `riposte:exempt-owner`). An `until` that cannot be read as a date
 * keeps the exemption (safe default: nothing changes), and the reason says so.
 *
 * @param exemptTags The playbook's (and deployment's) exempt tags, e.g. `{ "riposte:exempt": "true" }`.
 * @param tags The resource's tags as read live (`readResourceTags`).
 */
export function resourceExemption(exemptTags: Readonly<Record<string, string>>, tags: Readonly<Record<string, string>>, now: Date): ExemptionDecision {
  const matched = Object.entries(exemptTags).flatMap(([key, value]) => {
    const actual = Object.hasOwn(tags, key) ? tags[key] : undefined;
    return actual !== undefined && sameValue(actual, value) ? [`${key}=${actual}`] : [];
  });
  if (matched.length === 0) return { exempt: false };

  const by = matched.join(', ');
  const owner = Object.hasOwn(tags, EXEMPTION_TAGS.owner) ? tags[EXEMPTION_TAGS.owner]?.trim() || undefined : undefined;
  const until = parseUntil(Object.hasOwn(tags, EXEMPTION_TAGS.until) ? tags[EXEMPTION_TAGS.until] : undefined);
  switch (until.kind) {
    case 'none':
      return { exempt: true, by: 'tag', reason: `exempt by resource tag ${by}${ownerNote(owner)}`, ...optional('owner', owner) };
    case 'unreadable':
      return {
        exempt: true,
        by: 'tag',
        reason: `exempt by resource tag ${by}${ownerNote(owner)}; its ${EXEMPTION_TAGS.until} "${until.text}" could not be read as a date (YYYY-MM-DD or an ISO 8601 timestamp), so the exemption is kept`,
        until: until.text,
        ...optional('owner', owner),
      };
    case 'until':
      if (now.getTime() >= until.endsAt) {
        return { exempt: false, reason: `exemption ${by} expired on ${until.text}${ownerNote(owner)}`, until: until.text, ...optional('owner', owner) };
      }
      return { exempt: true, by: 'tag', reason: `exempt by resource tag ${by} until ${until.text}${ownerNote(owner)}`, until: until.text, ...optional('owner', owner) };
  }
}

/**
 * Whether the account is exempt from the playbook.
 *
 * Accounts the deployment excludes are always exempt (nothing ever changes
 * there). A playbook's account exemption protects until its `until` (read as
 * for `riposte:exempt-until`; one that cannot be read keeps protecting);
 * when the playbook lists the account more than once, any entry still in
 * force exempts it. An expired one leaves the account not exempt, with a
 * reason.
 *
 * @param playbookAccounts The playbook's `exempt.accounts`.
 * @param excludedAccounts The deployment's excluded accounts.
 */
export function accountExemption(playbookAccounts: readonly AccountExemption[], excludedAccounts: readonly string[], account: string, now: Date): ExemptionDecision {
  if (excludedAccounts.includes(account)) {
    return { exempt: true, by: 'excluded-account', reason: `account ${account} is excluded from remediation in this deployment` };
  }
  let expired: Extract<ExemptionDecision, { exempt: false }> | undefined;
  let expiredAt = -Infinity;
  for (const entry of playbookAccounts) {
    if (entry.id !== account) continue;
    const owner = entry.owner?.trim() || undefined;
    const until = parseUntil(entry.until);
    if (until.kind === 'none') {
      return { exempt: true, by: 'account', reason: `account ${account} is exempt from this playbook${ownerNote(owner)}`, ...optional('owner', owner) };
    }
    if (until.kind === 'unreadable') {
      return {
        exempt: true,
        by: 'account',
        reason: `account ${account} is exempt from this playbook${ownerNote(owner)}; its end "${until.text}" could not be read as a date, so the exemption is kept`,
        until: until.text,
        ...optional('owner', owner),
      };
    }
    if (now.getTime() < until.endsAt) {
      return { exempt: true, by: 'account', reason: `account ${account} is exempt from this playbook until ${until.text}${ownerNote(owner)}`, until: until.text, ...optional('owner', owner) };
    }
    if (until.endsAt > expiredAt) {
      expiredAt = until.endsAt;
      expired = { exempt: false, reason: `exemption of account ${account} expired on ${until.text}${ownerNote(owner)}`, until: until.text, ...optional('owner', owner) };
    }
  }
  return expired ?? { exempt: false };
}
