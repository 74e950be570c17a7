import { IllegalRunTransitionError, LedgerConflictError, RunAlreadyFinishedError } from './errors.js';
import { canMove, hasEnded, type RunState } from './run-state.js';
import { LISTED_RUN_FIELDS, TERMINAL_RUN_STATUSES } from './types.js';
import type { ChangeReservation, ClaimResult, ListedRun, NewRun, RunOutcome, RunQuery, RunRecord, RunStatus, StepRecord, TerminalRunStatus } from './types.js';

/*
 * The rules every store keeps. The file and memory stores apply them to the
 * record they hold (under a lock, or within one call), and to their claims
 * and slots through `documents.ts`; the DynamoDB store writes conditionally
 * and, when a condition fails, applies them to the item DynamoDB returns, to
 * say which rule refused the write. Either way there is one statement of
 * each rule.
 */

/**
 * The idempotency key of one finding version and one playbook. It names the
 * finding by its own id and updated-at, never by the account that delivered
 * it, so the copy the Security Hub administrator account forwards claims the
 * same key as the member account's original.
 */
export function idempotencyKey(findingId: string, findingUpdatedAt: string | undefined, playbookId: string): string {
  return `${findingId}|${findingUpdatedAt ?? '-'}|${playbookId}`;
}

const terminal: ReadonlySet<RunStatus> = new Set<RunStatus>(TERMINAL_RUN_STATUSES);

/** Whether a run in this status has ended. */
export function isTerminal(status: RunStatus): boolean {
  return terminal.has(status);
}

/** The statuses a run may be in for `finishRun(…, target)` to apply. */
export function finishableFrom(target: TerminalRunStatus): readonly RunStatus[] {
  return target === 'rolled-back' ? ['started', 'in-progress', 'succeeded', 'failed'] : ['started', 'in-progress'];
}

/**
 * Values go into the ledger as plain JSON: `undefined` fields dropped, dates
 * as strings, no class instances — so every store keeps exactly the same thing
 * and a record reads back equal to what was written.
 */
export function toPlainJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** A fresh record for `startRun`: `claimed`, version 1, no steps. */
export function newRunRecord(run: NewRun, now: Date): RunRecord {
  const at = now.toISOString();
  const state: RunState = { stage: 'claimed' };
  return toPlainJson({ ...run, status: 'started', state, history: [{ state, at }], steps: [], createdAt: at, updatedAt: at, version: 1 });
}

function checkVersion(current: RunRecord, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && current.version !== expectedVersion) throw new LedgerConflictError(current, expectedVersion);
}

function checkMove(current: RunRecord, next: RunState): void {
  if (!canMove(current.state.stage, next.stage)) throw new IllegalRunTransitionError(current, next.stage);
}

/**
 * The record after appending a step (and, when `next` is given, moving to
 * that state in the same write), or the typed error explaining why the
 * append is refused.
 */
export function withStep(current: RunRecord, step: StepRecord, expectedVersion: number | undefined, now: Date, next?: RunState): RunRecord {
  if (isTerminal(current.status)) throw new RunAlreadyFinishedError(current, `append step ${step.index} (${step.action} ${step.phase})`);
  checkVersion(current, expectedVersion);
  if (next !== undefined) checkMove(current, next);
  const at = now.toISOString();
  return {
    ...current,
    status: 'in-progress',
    ...(next === undefined ? {} : { state: toPlainJson(next), history: [...current.history, toPlainJson({ state: next, at })] }),
    steps: [...current.steps, toPlainJson(step)],
    updatedAt: at,
    version: current.version + 1,
  };
}

/** The record after moving to `next` (a stage that has not ended), or the typed error explaining why not. */
export function withState(current: RunRecord, next: RunState, expectedVersion: number | undefined, now: Date): RunRecord {
  if (hasEnded(next.stage)) throw new IllegalRunTransitionError(current, next.stage, 'a run ends through finishRun');
  if (isTerminal(current.status)) throw new RunAlreadyFinishedError(current, `move it to ${next.stage}`);
  checkVersion(current, expectedVersion);
  checkMove(current, next);
  const at = now.toISOString();
  return { ...current, state: toPlainJson(next), history: [...current.history, toPlainJson({ state: next, at })], updatedAt: at, version: current.version + 1 };
}

/** The record after finishing, or the typed error explaining why not. */
export function withFinish(current: RunRecord, status: TerminalRunStatus, outcome: RunOutcome, expectedVersion: number | undefined, now: Date): RunRecord {
  if (!finishableFrom(status).includes(current.status)) throw new RunAlreadyFinishedError(current, `finish it as ${status}`);
  checkVersion(current, expectedVersion);
  const at = now.toISOString();
  const state: RunState = { stage: status };
  return { ...current, status, state, history: [...current.history, { state, at }], outcome: toPlainJson(outcome), updatedAt: at, version: current.version + 1 };
}

/** Seconds since the epoch, the unit of DynamoDB TTL attributes. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** Rejects windows that cannot mean anything (zero, negative, fractional, not a number). */
export function assertClaimWindow(windowSeconds: number): void {
  if (!Number.isInteger(windowSeconds) || windowSeconds <= 0) {
    throw new RangeError(`an idempotency window is a whole number of seconds above zero, not ${windowSeconds}`);
  }
}

/** Rejects change limits that cannot mean anything, as `assertClaimWindow` does windows. */
export function assertChangeLimit(limit: number, windowSeconds: number): void {
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`a change limit is a whole number of resources above zero, not ${limit}`);
  }
  assertClaimWindow(windowSeconds);
}

/** Who holds an idempotency key (or a change-limit slot), and until when: as a store reads it. */
export interface Holder {
  /** The run holding a key, or the resource holding a slot. */
  readonly holder: string;
  /** Epoch seconds: the end of the window. */
  readonly expiresAt: number;
}

/** The holder while its window lasts; nobody once it has passed (TTL removes spent items only eventually). */
export function liveHolder(held: Holder | undefined, nowSeconds: number): string | undefined {
  return held !== undefined && held.expiresAt > nowSeconds ? held.holder : undefined;
}

/** A claim the store should write now (the key is free), rather than an answer. */
export const TAKE = Symbol('take');

/**
 * What claiming `key` for `runId` comes to, given who holds it: within the
 * window the first run keeps it (asking again with that run answers
 * `claimed` without extending the window); once free, the claim is taken.
 */
export function claimOutcome(held: Holder | undefined, runId: string, nowSeconds: number): ClaimResult | typeof TAKE {
  const owner = liveHolder(held, nowSeconds);
  if (owner === undefined) return TAKE;
  return owner === runId ? { claimed: true } : { claimed: false, existingRunId: owner };
}

/**
 * What moving a claim from `fromRunId` to `toRunId` comes to: taken while
 * `fromRunId` still owns it; `claimed` once `toRunId` does; otherwise the
 * owner (`''`: nobody, the retry should `claim()` instead).
 */
export function transferOutcome(held: Holder | undefined, fromRunId: string, toRunId: string, nowSeconds: number): ClaimResult | typeof TAKE {
  const owner = liveHolder(held, nowSeconds) ?? '';
  if (owner === fromRunId) return TAKE;
  return owner === toRunId ? { claimed: true } : { claimed: false, existingRunId: owner };
}

/** The refusal of a reservation once every slot below the limit is held: its holders in slot order. */
export function limitReached(held: ReadonlyMap<number, string>, limit: number): ChangeReservation {
  const holders = [...held].sort(([a], [b]) => a - b).map(([, holder]) => holder);
  return { allowed: false, used: held.size, limit, holders };
}

/**
 * The first slot below `limit` that nobody holds. `held` has only slots
 * below `limit`, so among the first `held.size + 1` one is free unless all
 * `limit` are held: the search costs what is held, never what the limit
 * allows (a limit of 2^53 - 1 is as quick as 1).
 */
export function freeSlot(held: ReadonlyMap<number, unknown>, limit: number): number | undefined {
  const last = Math.min(limit, held.size + 1);
  for (let index = 0; index < last; index += 1) if (!held.has(index)) return index;
  return undefined;
}

/** A run's listing fields, and no others (a record or a DynamoDB projection may hold more). */
export function listedRun(run: Pick<RunRecord, (typeof LISTED_RUN_FIELDS)[number]>): ListedRun {
  return Object.fromEntries(LISTED_RUN_FIELDS.map((field) => [field, run[field]])) as unknown as ListedRun;
}

/** Whether a run falls within a listing's query. `createdAt` is always `toISOString()`'s form, so strings compare as times. */
export function withinQuery(run: Pick<RunRecord, 'createdAt'>, query: RunQuery): boolean {
  return query.since === undefined || run.createdAt >= query.since.toISOString();
}

/** The order of a finding's runs (`listRunsForFinding`): oldest first, run id breaking ties. */
export function oldestFirst(a: Pick<RunRecord, 'createdAt' | 'runId'>, b: Pick<RunRecord, 'createdAt' | 'runId'>): number {
  return a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId);
}

/** A listing's order, the same in every store: newest first, run id breaking ties (newest-looking first too). */
export function newestFirst(a: ListedRun, b: ListedRun): number {
  return b.createdAt.localeCompare(a.createdAt) || b.runId.localeCompare(a.runId);
}
