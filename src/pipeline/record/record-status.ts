import type { SerializedError } from '../../errors.js';

/**
 * Whether the finding in Security Hub carries the run's note and workflow:
 * `done` (written), `pending-retry` (not yet: a retry is queued),
 * `failed` (not written, and no retry will write it), `skipped` (nothing to
 * write: the finding did not come through Security Hub).
 */
export const SECURITY_HUB_RECORD_STATUSES = ['done', 'pending-retry', 'failed', 'skipped'] as const;
export type SecurityHubRecordStatus = (typeof SECURITY_HUB_RECORD_STATUSES)[number];

/**
 * What a run wrote on its finding, apart from what the run did: a run can be
 * fixed and verified (`succeeded`) while Security Hub has not yet taken its
 * note. Kept in the run result (`record`) and the run record's
 * `outcome.details.record`; a retry that settles it later is recorded under
 * {@link recordStatusRunId}.
 */
export interface RunRecordStatus {
  readonly securityHub: SecurityHubRecordStatus;
  /** One line: what was written, or why not. */
  readonly detail: string;
  /** The workflow status written with the note (or to be written by the retry). */
  readonly workflow?: 'RESOLVED' | 'NOTIFIED';
  /** Calls made so far to write it (0 when there was nothing to write). */
  readonly attempts: number;
  /** The last failure, for `pending-retry` and `failed`. */
  readonly error?: SerializedError;
  /** ISO 8601: when this status was reached. */
  readonly at: string;
}

/**
 * The ledger id under which a record retry keeps its outcome: the run's own
 * record is closed once the run ends (the ledger finishes a run once), so
 * the retry writes a record of its own beside it, `<runId>.record`, whose
 * `outcome.details.record` is the settled {@link RunRecordStatus} and
 * `outcome.details.recordOf` the run.
 */
export function recordStatusRunId(runId: string): string {
  return `${runId}.record`;
}
