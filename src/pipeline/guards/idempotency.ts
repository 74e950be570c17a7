import type { Finding } from '../../intake/index.js';
import { idempotencyKey, isTerminal, type RunLedger, type RunMode, type RunRecord } from '../../ledger/index.js';
import type { RunLogger } from '../../log/index.js';
import type { PipelineSettings } from '../types.js';

/** The idempotency guard's answer: this run goes ahead (possibly as the retry of a failed one), or another run already has the work. */
/** `supersedes`: the run whose claim this one took over (with or without a record), whose resource lease passes on too. */
export type ClaimDecision =
  { readonly claimed: true; readonly retryOf?: RunRecord; readonly supersedes?: string } | { readonly claimed: false; readonly duplicateOf: string; readonly summary: string };

/**
 * The same finding version, playbook, trigger and mode: once. API requests
 * carry no finding of their own, so their instance is the key, for a
 * shorter window: the instance the request names, which is the run's
 * resolved target whenever the run goes on (resolution refuses a request
 * whose instance AWS does not show). The claim comes before resolution on
 * purpose: a duplicate delivery costs no read in the member account.
 *
 * Not Powertools idempotency: it keys one function call and caches its
 * result, and forgets a call that threw. A run needs more — one key per
 * finding *and* playbook inside a batch, the owning run id to report a
 * duplicate against, and a failed run's key handed to its retry so that
 * completed steps carry over — so the claim lives in the run ledger (whose
 * DynamoDB store uses the same technique: a conditional put with an expiry).
 */
function claimKey(finding: Finding, playbookId: string, mode: RunMode, settings: PipelineSettings): { key: string; windowSeconds: number } {
  const api = finding.trigger.kind === 'api';
  const resource = finding.resources[0];
  const subject = api ? `api/${finding.account}/${finding.region}/${resource?.instanceId ?? resource?.id ?? finding.id}` : finding.id;
  return {
    key: idempotencyKey(subject, api ? undefined : finding.updatedAt, `${playbookId}|${finding.trigger.kind}|${mode}`),
    windowSeconds: api ? settings.apiIdempotencyWindowSeconds : settings.idempotencyWindowSeconds,
  };
}

/**
 * A run a new delivery may take over: it failed; or it died without
 * finishing (its Lambda timed out); or it was started by an earlier receive
 * of this same queue message and is not waiting to resume, so its worker
 * gave it up (SQS hands a message to one consumer at a time, and back only
 * once that consumer returned it or ran out of time). A worker whose ledger
 * writes failed (throttled past the SDK's retries) cannot record its own end:
 * without this, the redelivery would take the run for a live one and drop
 * the finding.
 */
function retryable(existing: RunRecord, now: Date, settings: PipelineSettings, deliveryId: string | undefined): boolean {
  if (existing.status === 'failed') return true;
  if (isTerminal(existing.status)) return false;
  if (deliveryId !== undefined && existing.deliveryId === deliveryId && existing.state.stage !== 'paused') return true;
  return now.getTime() - Date.parse(existing.updatedAt) > settings.staleRunSeconds * 1000;
}

/**
 * The latest unfinished run of this finding and playbook, for a claim whose
 * holder left no record: a retry that took the claim over and was refused
 * its first ledger write. The attempt before it (whose record may still read
 * in progress) is what this delivery retries; without it, the retry would
 * start from nothing and the abandoned attempt would stay unfinished, its
 * steps and targets never carried over.
 */
async function unfinishedAttempt(ledger: RunLedger, work: { readonly finding: Finding; readonly playbookId: string; readonly mode: RunMode }): Promise<RunRecord | undefined> {
  const runs = await ledger.listRunsForFinding(work.finding.id);
  return runs.filter((run) => run.playbookId === work.playbookId && run.mode === work.mode && !isTerminal(run.status)).at(-1);
}

/**
 * Claims the work for run `runId`. A delivery whose work another run
 * already did (or is doing) within the window is a duplicate; one whose
 * earlier run failed or died takes the claim over and retries it — the
 * abandoned run is marked failed, so that it cannot finish later as well.
 */
export async function claimWork(
  ledger: RunLedger,
  settings: PipelineSettings,
  work: { readonly finding: Finding; readonly playbookId: string; readonly mode: RunMode; readonly runId: string; readonly now: Date; readonly deliveryId?: string },
  logger: RunLogger,
): Promise<ClaimDecision> {
  const { key, windowSeconds } = claimKey(work.finding, work.playbookId, work.mode, settings);
  const claim = await ledger.claim(key, work.runId, windowSeconds, work.now);
  if (claim.claimed) return { claimed: true };

  const existing = claim.existingRunId === '' ? undefined : ((await ledger.getRun(claim.existingRunId)) ?? (await unfinishedAttempt(ledger, work)));
  if (existing !== undefined && !retryable(existing, work.now, settings, work.deliveryId)) {
    logger.info('duplicate delivery: already handled', { existingRunId: existing.runId, existingStatus: existing.status });
    return { claimed: false, duplicateOf: existing.runId, summary: `already handled by run ${existing.runId} (${existing.status}) within the idempotency window` };
  }
  const transfer = await ledger.transferClaim(key, claim.existingRunId, work.runId, windowSeconds, work.now);
  if (!transfer.claimed) return { claimed: false, duplicateOf: transfer.existingRunId, summary: `already being retried by run ${transfer.existingRunId}` };
  if (existing !== undefined && !isTerminal(existing.status)) {
    await ledger
      .finishRun(existing.runId, 'failed', { summary: `abandoned: no progress since ${existing.updatedAt}; retried by run ${work.runId}` }, existing.version)
      .catch((error: unknown) => logger.warn('could not mark the abandoned run failed', { existingRunId: existing.runId, error }));
  }
  logger.info('retrying a failed run', { retryOf: claim.existingRunId });
  const supersedes = claim.existingRunId === '' ? {} : { supersedes: claim.existingRunId };
  return existing === undefined ? { claimed: true, ...supersedes } : { claimed: true, retryOf: existing, ...supersedes };
}
