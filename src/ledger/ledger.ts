import type { RunState } from './run-state.js';
import type { ChangeReservation, ClaimResult, ListedRun, NewRun, RunOutcome, RunQuery, RunRecord, StepRecord, TerminalRunStatus } from './types.js';

/**
 * The run ledger: the audit trail of every run and the idempotency store that
 * makes a twice-delivered finding run once. DynamoDB in production
 * (`DynamoDbRunLedger`), a directory of JSON files for the CLI
 * (`FileRunLedger`), and the process's memory for runs nobody reads again
 * (`MemoryRunLedger`: `riposte test`'s replays); all keep the same rules,
 * which live in `rules.ts`.
 *
 * A run's record is append-only: it starts `claimed` (`startRun`, before
 * anything changes), moves through the stages of its lifecycle
 * (`advanceRun`, `run-state.ts`), gains one step record per finished phase
 * (`appendStep`), and ends once (`finishRun`); every move is kept in its
 * history. Every write bumps `version`; a write that names the version it
 * expects fails with `LedgerConflictError` (carrying the current record) if
 * another writer got there first.
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
   * @param next when given, the run moves to this state in the same write (the step that ran, and the step that comes next).
   * @throws LedgerConflictError (stale version), RunAlreadyFinishedError, RunNotFoundError, IllegalRunTransitionError.
   */
  appendStep(runId: string, step: StepRecord, expectedVersion?: number, next?: RunState): Promise<RunRecord>;

  /**
   * Moves the run to the next stage of its lifecycle (one that has not ended: a run ends through `finishRun`).
   * @throws IllegalRunTransitionError (a move the lifecycle does not allow), LedgerConflictError, RunAlreadyFinishedError, RunNotFoundError.
   */
  advanceRun(runId: string, next: RunState, expectedVersion: number): Promise<RunRecord>;

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

  /**
   * Gives a claim up before its window ends, if `runId` still holds it (a
   * lease whose work is done); otherwise does nothing. Safe to repeat.
   */
  releaseClaim(key: string, runId: string): Promise<void>;

  /** Every run recorded for a finding, oldest first. */
  listRunsForFinding(findingId: string): Promise<RunRecord[]>;

  /**
   * The runs recorded (of every finding), newest first, each as its listing
   * fields: what `riposte runs` prints. Reads the whole store, so it is for
   * people looking at history, never for the pipeline's hot path.
   */
  listRuns(query?: RunQuery): Promise<ListedRun[]>;

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

/** Options every implementation takes. */
export interface RunLedgerOptions {
  /** Where `createdAt`, `updatedAt`, step-free timestamps, claim and reservation times come from. */
  readonly clock?: () => Date;
}
