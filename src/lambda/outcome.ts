import type { SerializedError } from '../errors.js';
import type { FindingResult, PipelineResult, PlaybookRunResult } from '../pipeline/index.js';

/*
 * Which outcomes send a message back to its queue (or fail an asynchronous
 * invocation, so Lambda retries it), and which are done with. The rule:
 *
 * - Done: the run is recorded — succeeded, skipped by a guard, in progress
 *   (the resume queue brings it back), a duplicate, not run (`off`), or
 *   failed for a reason a retry cannot change (access denied, an invalid
 *   parameter, a resource in the wrong state). The ledger and the SNS
 *   message already say so; redelivering would fail the same way.
 * - Redelivered: a run failed for a reason that may pass — throttling, a
 *   5xx answer, a network failure, the ledger unreachable (`retryable`, as
 *   `isRetryableError` in src/errors.ts classifies it) — on the run itself
 *   or on any of its steps; and any failure that left no run record behind
 *   (the finding guard, matching, the idempotency claim or the first ledger
 *   write failed): with nothing recorded, the queue and finally its DLQ are
 *   the only trace, so it is never dropped.
 * - Dropped (by the callers, before this): input that cannot be read —
 *   not JSON, not an EventBridge event, an event intake refuses whole.
 *
 * A redelivered run is safe to repeat: the idempotency guard lets the retry
 * take over the failed run, carrying over the steps it completed.
 */

/** Why a run should run again, or `undefined` when it is done with. */
export function runRetryReason(run: PlaybookRunResult): string | undefined {
  if (run.status !== 'failed') return undefined;
  if (run.runId === undefined) return `playbook ${run.playbookId}: failed before a run was recorded (${run.error?.message ?? run.summary})`;
  const retryable: SerializedError | undefined = [run.error, ...run.steps.filter((step) => step.status === 'failed').map((step) => step.error)].find((error) => error?.retryable === true);
  return retryable === undefined ? undefined : `run ${run.runId} (${run.playbookId}) failed for a reason that may pass: ${retryable.message}`;
}

/** Why a finding should be delivered again (a reason per run), or nothing. */
export function findingRetryReasons(finding: FindingResult): string[] {
  if (finding.error !== undefined) return [`finding ${finding.findingId}: ${finding.error.message} (nothing was recorded)`];
  return finding.runs.map(runRetryReason).filter((reason): reason is string => reason !== undefined);
}

/** Why a delivery should be delivered again: empty when every finding is done with. */
export function deliveryRetryReasons(result: PipelineResult): string[] {
  return result.findings.flatMap(findingRetryReasons);
}
