import { RiposteError, type ErrorContext } from '../errors.js';
import type { RunRecord } from './types.js';

function runContext(run: RunRecord): ErrorContext {
  return { runId: run.runId, playbook: run.playbookId, account: run.account, region: run.region, findingId: run.findingId };
}

/**
 * A run with this id is already recorded. Carries the existing record, so a
 * caller delivered the same work twice can pick up where the first left off
 * instead of starting over.
 */
export class RunAlreadyExistsError extends RiposteError {
  override readonly name: string = 'RunAlreadyExistsError';
  readonly code = 'LEDGER_RUN_ALREADY_EXISTS';
  readonly existing: RunRecord;
  constructor(existing: RunRecord) {
    super(`run ${existing.runId} is already recorded (status ${existing.status}, version ${existing.version})`, {
      context: runContext(existing),
      retryable: false,
    });
    this.existing = existing;
  }
}

/**
 * The run changed since the caller read it (its version is not the one the
 * caller expected). Carries the current record: re-apply the change on top
 * of it and write again.
 */
export class LedgerConflictError extends RiposteError {
  override readonly name: string = 'LedgerConflictError';
  readonly code = 'LEDGER_CONFLICT';
  readonly current: RunRecord;
  readonly expectedVersion: number;
  constructor(current: RunRecord, expectedVersion: number) {
    super(`run ${current.runId} is at version ${current.version}, not the expected ${expectedVersion}`, {
      context: { ...runContext(current), expectedVersion, currentVersion: current.version },
      retryable: true,
    });
    this.current = current;
    this.expectedVersion = expectedVersion;
  }
}

/** No run with this id is recorded. */
export class RunNotFoundError extends RiposteError {
  override readonly name: string = 'RunNotFoundError';
  readonly code = 'LEDGER_RUN_NOT_FOUND';
  readonly runId: string;
  constructor(runId: string) {
    super(`no run ${runId} is recorded`, { context: { runId }, retryable: false });
    this.runId = runId;
  }
}

/**
 * The run has already ended, so its record is closed: nothing more is
 * appended, and it is not finished twice (a rollback is a run of its own; the
 * original only moves to `rolled-back`). Carries the record as it stands.
 */
export class RunAlreadyFinishedError extends RiposteError {
  override readonly name: string = 'RunAlreadyFinishedError';
  readonly code = 'LEDGER_RUN_FINISHED';
  readonly current: RunRecord;
  constructor(current: RunRecord, attempted: string) {
    super(`run ${current.runId} already ended as ${current.status}: cannot ${attempted}`, {
      context: { ...runContext(current), status: current.status },
      retryable: false,
    });
    this.current = current;
  }
}

/**
 * The move is not one the run lifecycle allows (`run-state.ts`): a stage
 * skipped, or a run moved back. A bug in the caller, never retried.
 */
export class IllegalRunTransitionError extends RiposteError {
  override readonly name: string = 'IllegalRunTransitionError';
  readonly code = 'LEDGER_ILLEGAL_TRANSITION';
  readonly current: RunRecord;
  constructor(current: RunRecord, to: string, why?: string) {
    super(`run ${current.runId} cannot move from ${current.state.stage} to ${to}${why === undefined ? '' : `: ${why}`}`, {
      context: { ...runContext(current), stage: current.state.stage },
      retryable: false,
    });
    this.current = current;
  }
}

/**
 * The ledger's store failed or holds something unreadable (a DynamoDB error
 * other than a failed condition, a corrupt run file). Whether a retry can
 * help depends on the cause (throttling and timeouts can).
 */
export class LedgerStoreError extends RiposteError {
  override readonly name: string = 'LedgerStoreError';
  readonly code = 'LEDGER_STORE_FAILED';
  constructor(operation: string, cause: unknown, context: ErrorContext = {}, retryable = false) {
    super(`the run ledger could not ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      context: { ...context, operation },
      cause,
      retryable,
    });
  }
}
