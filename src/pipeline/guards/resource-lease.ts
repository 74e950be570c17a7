import type { Finding, Resource } from '../../intake/index.js';
import { isTerminal, type RunLedger, type RunMode } from '../../ledger/index.js';
import type { RunLogger } from '../../log/index.js';
import { ResourceBusyError } from '../errors.js';
import type { PipelineSettings } from '../types.js';

/*
 * One run at a time changes a resource.
 *
 * Security Hub raises several findings about one resource (a password policy
 * fails IAM.7 and IAM.11 to IAM.17 at once; GuardDuty reports an instance
 * more than once), and each is its own delivery with its own idempotency key.
 * Run side by side, each would plan against the state before the other's
 * change and make the change again: under a burst, 83 password-policy
 * updates for 8 accounts (test/handlers/throttling.int.test.ts).
 *
 * So an enforcing run leases the resource its finding names before it
 * resolves it, and gives the lease up when it ends. A run that finds the
 * resource leased waits for the holder to end, then resolves and plans
 * against what the holder left (usually: nothing left to change). The lease
 * is a ledger claim, so it holds across every Lambda instance.
 *
 * The key comes from the finding, which only orders runs here: what a run
 * acts on is still what it resolves, live. Spellings of one resource (an ARN,
 * its id) make one key.
 */

/** A lease outlives the longest Lambda invocation, so a holder that died frees its resource at the latest then. */
export const RESOURCE_LEASE_SECONDS = 900;
/** The longest a run waits for a resource before handing its delivery back for later. */
const MAX_WAIT_MS = 120_000;
/** What the wait leaves of the invocation, for the run itself. */
const TIME_MARGIN_MS = 60_000;
const FIRST_POLL_MS = 200;
const LONGEST_POLL_MS = 1_000;

/** The last segment of an ARN or an id: `sg-…` of `arn:aws:ec2:…:security-group/sg-…`, the account id of `AWS::::Account:…`. */
const lastSegment = (name: string): string => name.split(/[/:]/).at(-1) ?? name;

/** The lease key of the resource a finding names first; `undefined` when it names none, or for a plan (which changes nothing). */
export function resourceLeaseKey(finding: Finding, mode: RunMode): string | undefined {
  const resource: Resource | undefined = finding.resources[0];
  if (mode !== 'enforce') return undefined;
  if (resource === undefined) return undefined;
  const name = resource.instanceId ?? lastSegment(resource.arn ?? resource.id);
  return `lease|${finding.partition}|${finding.account}|${finding.region}|${resource.type}|${name}`;
}

export interface ResourceLease {
  readonly key: string;
  /** Gives the lease up; never throws (a lease not given up ends with its window). */
  release(): Promise<void>;
}

/** The lease `runId` holds on `key`: what gives it up (after the run's end, or its resume's). */
export function heldLease(ledger: RunLedger, key: string, runId: string, logger: RunLogger): ResourceLease {
  return {
    key,
    release: () => ledger.releaseClaim(key, runId).catch((error: unknown) => logger.warn('could not give the resource lease up: it ends with its window', { lease: key, error })),
  };
}

/** Waits for `ms`: the run's own pause between asking for a busy resource. */
const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Leases `key` for `runId`, waiting while another live run holds it. A
 * holder that ended without giving the lease up, or stopped making progress
 * (its Lambda died), or that this run retries, is taken over.
 * @throws ResourceBusyError (retryable) when the resource stays leased longer than the run can wait.
 */
export async function leaseResource(
  ledger: RunLedger,
  settings: PipelineSettings,
  work: {
    readonly key: string;
    readonly runId: string;
    /** The run this one retries: a lease it still holds passes to this run, as its idempotency claim did. */
    readonly supersedes?: string;
    readonly now: () => Date;
    readonly remainingTimeMs?: () => number;
  },
  logger: RunLogger,
): Promise<ResourceLease> {
  const { key, runId } = work;
  const started = Date.now();
  const lease = heldLease(ledger, key, runId, logger);
  let holder = '';
  let waiting = false;
  for (let wait = FIRST_POLL_MS; ; wait = Math.min(wait * 2, LONGEST_POLL_MS)) {
    const claim = await ledger.claim(key, runId, RESOURCE_LEASE_SECONDS, work.now());
    if (claim.claimed) {
      if (holder !== '') logger.info('resource lease taken after waiting', { lease: key, waitedMs: Date.now() - started });
      return lease;
    }
    holder = claim.existingRunId;
    const record = holder === '' ? undefined : await ledger.getRun(holder);
    const stale = record !== undefined && work.now().getTime() - Date.parse(record.updatedAt) > settings.staleRunSeconds * 1000;
    if (holder !== '' && (holder === work.supersedes || (record !== undefined && (isTerminal(record.status) || stale)))) {
      const takeover = await ledger.transferClaim(key, holder, runId, RESOURCE_LEASE_SECONDS, work.now());
      if (takeover.claimed) {
        logger.info('resource lease taken over from a run that no longer holds it', { lease: key, from: holder, status: record?.status });
        return lease;
      }
      continue;
    }
    const waited = Date.now() - started;
    const left = work.remainingTimeMs?.() ?? Number.POSITIVE_INFINITY;
    if (waited + wait > MAX_WAIT_MS || left - wait < TIME_MARGIN_MS) throw new ResourceBusyError(key, runId, holder, waited);
    if (!waiting) logger.info('resource leased by another run: waiting for it to end', { lease: key, holder });
    waiting = true;
    await pause(wait);
  }
}
