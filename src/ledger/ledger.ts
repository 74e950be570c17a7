import { LedgerConflictError, RunAlreadyFinishedError } from './errors.js';
import { TERMINAL_RUN_STATUSES } from './types.js';
import type { ChangeReservation, ClaimResult, NewRun, RunOutcome, RunRecord, RunStatus, StepRecord, TerminalRunStatus } from './types.js';

/**
 * The run ledger: the audit trail of every run and the idempotency store that
 * makes a twice-delivered finding run once. DynamoDB in production
 * (`DynamoDbRunLedger`), a directory of JSON files for the CLI
 * (`FileRunLedger`); both keep the same rules, which live here.
 *
 * A run's record is append-only: it starts (`startRun`, before anything
 * changes), gains one step record per finished phase (`appendStep`), and ends
 * once (`finishRun`). Every write bumps `version`; a write that names the
 * version it expects fails with `LedgerConflictError` (carrying the current
 * record) if another writer got there first.
 */
export interface RunLedger {
  /**
   * Records a new run (status `started`, version 1, no steps).
   * @throws RunAlreadyExistsError carrying the existing record, if the run id is taken.
   */
  startRun(run: NewRun): Promise<RunRecord>;

  /**
   * Appends one step record; the run becomes `in-progress`.
   * @param expectedVersion when given, the append happens only if the run is still at this version.
   * @throws LedgerConflictError (stale version), RunAlreadyFinishedError, RunNotFoundError.
   */
  appendStep(runId: string, step: StepRecord, expectedVersion?: number): Promise<RunRecord>;

  /**
   * Ends the run. A finished run is not finished again, except that a
   * `succeeded` or `failed` run may later become `rolled-back`.
   * @throws LedgerConflictError (stale version), RunAlreadyFinishedError, RunNotFoundError.
   */
  finishRun(runId: string, status: TerminalRunStatus, outcome: RunOutcome, expectedVersion?: number): Promise<RunRecord>;

  /** The run's record, read consistently; `undefined` when there is none. */
  getRun(runId: string): Promise<RunRecord | undefined>;

  /**
   * Claims an idempotency key for a run, for `windowSeconds`. Within the
   * window the key belongs to the first run that claimed it (claiming again
   * with that same run id answers `claimed: true` without extending the
   * window); once the window has passed, the next claim takes it over.
   * @param now defaults to the ledger's clock.
   */
  claim(key: string, runId: string, windowSeconds: number, now?: Date): Promise<ClaimResult>;

  /**
   * Moves an idempotency claim from `fromRunId` to `toRunId` (a retry of a
   * failed run), with a fresh window. Succeeds only while `fromRunId` still
   * owns the key (within its window); otherwise answers with the owner —
   * `existingRunId` is `''` when no run holds the key (never claimed, or its
   * window has passed), and the retry should `claim()` it instead. Asking
   * again once `toRunId` owns the key answers `claimed: true` without
   * extending the window, as `claim()` does.
   * @param now defaults to the ledger's clock.
   */
  transferClaim(key: string, fromRunId: string, toRunId: string, windowSeconds: number, now?: Date): Promise<ClaimResult>;

  /** Every run recorded for a finding, oldest first. */
  listRunsForFinding(findingId: string): Promise<RunRecord[]>;

  /**
   * Reserves a slot for `resourceKey` under `scope` (a playbook id) within a
   * sliding window: at most `limit` distinct resources per `windowSeconds`. A
   * resource that already holds a slot within the window is allowed again
   * without taking another; its slot is then kept for a full window from this
   * call, since the resource is changed again now. Atomic across concurrent
   * callers: the limit is never exceeded. (Two concurrent first reservations
   * of the same resource may each take a slot — the error is on the side of
   * refusing.) When the limit is lowered, slots beyond it are ignored.
   * @param now defaults to the ledger's clock.
   * @throws RangeError when `limit` or `windowSeconds` is not a whole number above zero.
   */
  reserveChange(scope: string, resourceKey: string, limit: number, windowSeconds: number, now?: Date): Promise<ChangeReservation>;
}

/** Options both implementations take. */
export interface RunLedgerOptions {
  /** Where `createdAt`, `updatedAt`, step-free timestamps, claim and reservation times come from. */
  readonly clock?: () => Date;
}

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
 * as strings, no class instances — so both stores keep exactly the same thing
 * and a record reads back equal to what was written.
 */
export function toPlainJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** A fresh record for `startRun`. */
export function newRunRecord(run: NewRun, now: Date): RunRecord {
  const at = now.toISOString();
  return toPlainJson({ ...run, status: 'started', steps: [], createdAt: at, updatedAt: at, version: 1 });
}

/**
 * The record after appending a step, or the typed error explaining why the
 * append is refused. The DynamoDB ledger calls it on the record a failed
 * condition returned, to say which rule refused the write.
 */
export function withStep(current: RunRecord, step: StepRecord, expectedVersion: number | undefined, now: Date): RunRecord {
  if (isTerminal(current.status)) throw new RunAlreadyFinishedError(current, `append step ${step.index} (${step.action} ${step.phase})`);
  if (expectedVersion !== undefined && current.version !== expectedVersion) throw new LedgerConflictError(current, expectedVersion);
  return {
    ...current,
    status: 'in-progress',
    steps: [...current.steps, toPlainJson(step)],
    updatedAt: now.toISOString(),
    version: current.version + 1,
  };
}

/** The record after finishing, or the typed error explaining why not. */
export function withFinish(
  current: RunRecord,
  status: TerminalRunStatus,
  outcome: RunOutcome,
  expectedVersion: number | undefined,
  now: Date,
): RunRecord {
  if (!finishableFrom(status).includes(current.status)) throw new RunAlreadyFinishedError(current, `finish it as ${status}`);
  if (expectedVersion !== undefined && current.version !== expectedVersion) throw new LedgerConflictError(current, expectedVersion);
  return { ...current, status, outcome: toPlainJson(outcome), updatedAt: now.toISOString(), version: current.version + 1 };
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
  if (!Number.isInteger(windowSeconds) || windowSeconds <= 0) {
    throw new RangeError(`a change-limit window is a whole number of seconds above zero, not ${windowSeconds}`);
  }
}
