import { claimOutcome, epochSeconds, freeSlot, limitReached, TAKE, transferOutcome, type Holder } from './rules.js';
import type { ChangeReservation, ClaimResult } from './types.js';

/*
 * The two local stores (`FileRunLedger` on disk, `MemoryRunLedger` in
 * memory) keep every idempotency claim in one document and every
 * change-limit slot in another, and change each as a whole under their
 * lock. These are those changes, so the two stores keep exactly the same
 * thing; only where the document lives differs. (The DynamoDB store keeps
 * an item per claim and per slot, and writes them conditionally.)
 */

export interface ClaimEntry {
  readonly runId: string;
  readonly claimedAt: string;
  /** Epoch seconds, as in the DynamoDB store. */
  readonly expiresAt: number;
}

/** Idempotency key -> its claim: what `claims.json` holds. */
export type ClaimsDocument = Readonly<Record<string, ClaimEntry>>;

export interface SlotEntry {
  readonly resourceKey: string;
  readonly reservedAt: string;
  /** Epoch seconds, as in the DynamoDB store. */
  readonly expiresAt: number;
}

/** Scope -> slot index -> the resource holding it: the DynamoDB store's slot items, in one document (`limits.json`). */
export type LimitsDocument = Readonly<Record<string, Readonly<Record<string, SlotEntry>>>>;

/** What a change of a document answers, and the document to write in its place (none: leave it as it is). */
export interface DocumentChange<Document, Answer> {
  readonly answer: Answer;
  readonly next?: Document;
}

/**
 * `record[key]` when `record` itself holds it: claim keys carry a finding's
 * id and scopes a playbook's, and neither may find `Object.prototype`'s members.
 */
function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A claim of `key` for `runId` (`RunLedger.claim`), the window already checked. */
export function claimInDocument(claims: ClaimsDocument, key: string, runId: string, windowSeconds: number, now: Date): DocumentChange<ClaimsDocument, ClaimResult> {
  return takeOrAnswer(claims, key, runId, windowSeconds, now, (held, nowSeconds) => claimOutcome(held, runId, nowSeconds));
}

/** A transfer of `key` from `fromRunId` to `toRunId` (`RunLedger.transferClaim`), the window already checked. */
export function transferInDocument(claims: ClaimsDocument, key: string, fromRunId: string, toRunId: string, windowSeconds: number, now: Date): DocumentChange<ClaimsDocument, ClaimResult> {
  return takeOrAnswer(claims, key, toRunId, windowSeconds, now, (held, nowSeconds) => transferOutcome(held, fromRunId, toRunId, nowSeconds));
}

/** The rule answers from who holds `key` now, or says to take it for `runId`. */
function takeOrAnswer(
  claims: ClaimsDocument,
  key: string,
  runId: string,
  windowSeconds: number,
  now: Date,
  rule: (held: Holder | undefined, nowSeconds: number) => ClaimResult | typeof TAKE,
): DocumentChange<ClaimsDocument, ClaimResult> {
  const nowSeconds = epochSeconds(now);
  const held = ownEntry(claims, key);
  const outcome = rule(held === undefined ? undefined : { holder: held.runId, expiresAt: held.expiresAt }, nowSeconds);
  if (outcome !== TAKE) return { answer: outcome };
  // Expired claims are dropped as the document is rewritten (DynamoDB's TTL does the same, lazily).
  // Object.fromEntries defines each key as data, where `kept[key] = …` would run a `__proto__` setter.
  const claim: ClaimEntry = { runId, claimedAt: now.toISOString(), expiresAt: nowSeconds + windowSeconds };
  const next: ClaimsDocument = Object.fromEntries([...Object.entries(claims).filter(([name, entry]) => name !== key && entry.expiresAt > nowSeconds), [key, claim]]);
  return { answer: { claimed: true }, next };
}

/** The claims without `key`, when `runId` holds it; otherwise nothing to write. */
export function releaseInDocument(claims: ClaimsDocument, key: string, runId: string): DocumentChange<ClaimsDocument, void> {
  if (ownEntry(claims, key)?.runId !== runId) return { answer: undefined };
  return { answer: undefined, next: Object.fromEntries(Object.entries(claims).filter(([name]) => name !== key)) };
}

/** A reservation of a slot of `scope` for `resourceKey` (`RunLedger.reserveChange`), the limit and window already checked. */
export function reserveInDocument(limits: LimitsDocument, scope: string, resourceKey: string, limit: number, windowSeconds: number, now: Date): DocumentChange<LimitsDocument, ChangeReservation> {
  const nowSeconds = epochSeconds(now);
  const expiresAt = nowSeconds + windowSeconds;
  // The slots that are held, read as they are stored: the work is what is
  // held, never what the limit allows. Slots beyond a lowered limit are
  // ignored, as in the DynamoDB store.
  const held = new Map<number, SlotEntry>();
  for (const [key, slot] of Object.entries(ownEntry(limits, scope) ?? {})) {
    const index = Number(key);
    if (Number.isInteger(index) && index >= 0 && index < limit && slot.expiresAt > nowSeconds) held.set(index, slot);
  }
  const mine = [...held].find(([, slot]) => slot.resourceKey === resourceKey);
  let taken: number | undefined;
  if (mine !== undefined) {
    if (mine[1].expiresAt >= expiresAt) return { answer: { allowed: true, used: held.size, limit, alreadyHeld: true } };
    taken = mine[0];
  } else {
    taken = freeSlot(held, limit);
    if (taken === undefined) return { answer: limitReached(new Map([...held].map(([index, slot]) => [index, slot.resourceKey])), limit) };
  }
  // Expired slots are dropped as the document is rewritten (DynamoDB's TTL does the same, lazily).
  const slot: SlotEntry = { resourceKey, reservedAt: now.toISOString(), expiresAt };
  const live = (slots: Readonly<Record<string, SlotEntry>>): Array<[string, SlotEntry]> => Object.entries(slots).filter(([, entry]) => entry.expiresAt > nowSeconds);
  const next: LimitsDocument = Object.fromEntries([
    ...Object.entries(limits)
      .filter(([name]) => name !== scope)
      .map(([name, slots]): [string, Record<string, SlotEntry>] => [name, Object.fromEntries(live(slots))])
      .filter(([, slots]) => Object.keys(slots).length > 0),
    [scope, Object.fromEntries([...live(ownEntry(limits, scope) ?? {}).filter(([index]) => index !== String(taken)), [String(taken), slot]])],
  ]);
  return { answer: { allowed: true, used: mine === undefined ? held.size + 1 : held.size, limit, alreadyHeld: mine !== undefined }, next };
}
