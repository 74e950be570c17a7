import { SecurityHubClient } from '@aws-sdk/client-securityhub';

import { FindingUpdateError, isSecurityHubFinding, riposteNoteText, updateSecurityHubFinding } from '../../actions/index.js';
import type { AwsClientFactory } from '../../aws/index.js';
import { describeError, isRetryableError, type ErrorContext } from '../../errors.js';
import type { Finding } from '../../intake/index.js';

/** What a run writes on its finding: a note under the run's header, and optionally the workflow status. */
export interface FindingRecord {
  readonly runId: string;
  readonly playbookId: string;
  /** The note's text; the header `[riposte run <runId> playbook <playbookId>]` is added (512 characters in all). */
  readonly text: string;
  readonly workflow?: 'NOTIFIED' | 'RESOLVED';
}

export interface FindingRecordResult {
  readonly updated: boolean;
  readonly summary: string;
}

/**
 * Writes Riposte's note — and the workflow status, if given — on the
 * finding in Security Hub, through the same call as the `finding.update`
 * action (BatchUpdateFindings for ASFF, BatchUpdateFindingsV2 for OCSF).
 * Findings that did not come through Security Hub (native GuardDuty or
 * Config events, API requests) are left alone, with the reason.
 *
 * Security Hub answers such an update with a new `Findings - Imported`
 * event: the note's author (`riposte`) or marker is how Riposte knows it.
 *
 * @throws FindingUpdateError when Security Hub leaves the finding unprocessed
 *   (retryable) or the call fails (retryable when throttled, 5xx or a network error).
 */
export async function recordOnFinding(factory: AwsClientFactory, finding: Finding, update: FindingRecord): Promise<FindingRecordResult> {
  if (!isSecurityHubFinding(finding)) {
    return { updated: false, summary: `not a Security Hub finding (${finding.source}): nothing to update` };
  }
  const context: ErrorContext = { account: finding.account, region: finding.region, resource: finding.id, playbook: update.playbookId, runId: update.runId };
  const securityHub = factory.create(SecurityHubClient, { region: finding.region });
  try {
    await updateSecurityHubFinding(
      securityHub,
      finding,
      { note: riposteNoteText(update.runId, update.playbookId, update.text), ...(update.workflow === undefined ? {} : { workflow: update.workflow }) },
      context,
    );
  } catch (error) {
    if (error instanceof FindingUpdateError) throw error;
    throw new FindingUpdateError(`Security Hub did not update the finding: ${describeError(error)}`, context, { cause: error, retryable: isRetryableError(error) });
  }
  const call = finding.format === 'ocsf' ? 'BatchUpdateFindingsV2' : 'BatchUpdateFindings';
  return { updated: true, summary: `note${update.workflow === undefined ? '' : ` and workflow ${update.workflow}`} written on the finding (${call})` };
}
