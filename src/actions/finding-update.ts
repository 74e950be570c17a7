import { BatchUpdateFindingsCommand, BatchUpdateFindingsV2Command, GetFindingsCommand, GetFindingsV2Command, SecurityHubClient } from '@aws-sdk/client-securityhub';
import * as z from '../zod.js';

import type { ErrorContext } from '../errors.js';
import { neutralise } from '../neutralise.js';
import type { Finding, WorkflowStatus } from '../intake/index.js';
import { FindingUpdateError } from './errors.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

/** `Note.UpdatedBy` on every note Riposte writes: how later stages recognise Riposte's own updates. */
export const RIPOSTE_NOTE_AUTHOR = 'riposte';
/** OCSF comments have no author: Riposte's start with this marker instead. */
export const RIPOSTE_COMMENT_MARKER = '[riposte';

const params = z
  .strictObject({
    workflow: z.optional(z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'])),
    note: z.optional(z.string().check(z.minLength(1), z.maxLength(400))),
  })
  .check(z.refine((value) => value.workflow !== undefined || value.note !== undefined, 'needs workflow or note'));
type Params = z.output<typeof params>;

/** OCSF `status_id` for each workflow status (In Progress stands for NOTIFIED). */
const OCSF_STATUS: Readonly<Record<string, number>> = { NEW: 1, NOTIFIED: 2, SUPPRESSED: 3, RESOLVED: 4 };

/** Security Hub's limit on `Note.Text` (and on an OCSF `Comment`). */
export const SECURITY_HUB_NOTE_MAX = 512;

/**
 * The note as written: who wrote it, in which run and playbook, and the text —
 * `[riposte run <runId> playbook <playbookId>] text` — cut with an ellipsis
 * to Security Hub's 512 characters. The text quotes findings and summaries:
 * it is neutralised (one line, no control or bidi characters), the header is
 * written as is (the loop guard reads it back byte for byte).
 */
export function riposteNoteText(runId: string, playbookId: string | undefined, text: string): string {
  const header = `${RIPOSTE_COMMENT_MARKER} run ${runId}${playbookId === undefined ? '' : ` playbook ${playbookId}`}]`;
  const note = `${header} ${neutralise(text)}`;
  if (note.length <= SECURITY_HUB_NOTE_MAX) return note;
  // Cut on a code point, never inside a surrogate pair.
  return `${note.slice(0, SECURITY_HUB_NOTE_MAX - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

/** {@link riposteNoteText} for an action's run and playbook. */
export function riposteNote(context: ActionContext, text: string): string {
  return riposteNoteText(context.runId, context.playbookId, text);
}

/** Only findings Security Hub delivered (and knows by product ARN) can be updated there. */
export const isSecurityHubFinding = (finding: Finding): boolean => finding.source === 'securityhub' && finding.product.arn !== undefined;

/** What {@link updateSecurityHubFinding} writes: a note (already with its header), a workflow status, or both. */
export interface SecurityHubFindingUpdate {
  readonly note?: string;
  readonly workflow?: WorkflowStatus;
}

/**
 * The one Security Hub write Riposte makes: BatchUpdateFindings for ASFF
 * findings (note authored by {@link RIPOSTE_NOTE_AUTHOR}), BatchUpdateFindingsV2
 * for OCSF ones (the note as a comment, the workflow as a status id).
 * Failed calls (throttling, access denied) are left to the caller to wrap.
 *
 * @param context added to the error's context (run id, playbook, step).
 * @throws FindingUpdateError when Security Hub leaves the finding unprocessed
 *   (retryable), or for a finding it did not deliver (not retryable: check
 *   {@link isSecurityHubFinding} first).
 */
export async function updateSecurityHubFinding(securityHub: SecurityHubClient, finding: Finding, update: SecurityHubFindingUpdate, context: ErrorContext = {}): Promise<void> {
  const productArn = finding.product.arn;
  if (!isSecurityHubFinding(finding) || productArn === undefined) {
    throw new FindingUpdateError(
      `not a Security Hub finding (${finding.source}): Security Hub cannot update it`,
      { account: finding.account, region: finding.region, resource: finding.id, ...context },
      { retryable: false },
    );
  }
  const result =
    finding.format === 'ocsf'
      ? await securityHub.send(
          new BatchUpdateFindingsV2Command({
            FindingIdentifiers: [{ CloudAccountUid: finding.account, FindingInfoUid: finding.id, MetadataProductUid: productArn }],
            ...(update.note === undefined ? {} : { Comment: update.note }),
            ...(update.workflow === undefined ? {} : { StatusId: OCSF_STATUS[update.workflow] }),
          }),
        )
      : await securityHub.send(
          new BatchUpdateFindingsCommand({
            FindingIdentifiers: [{ Id: finding.id, ProductArn: productArn }],
            ...(update.note === undefined ? {} : { Note: { Text: update.note, UpdatedBy: RIPOSTE_NOTE_AUTHOR } }),
            ...(update.workflow === undefined ? {} : { Workflow: { Status: update.workflow } }),
          }),
        );
  const failed = result.UnprocessedFindings?.[0];
  if (failed !== undefined) {
    throw new FindingUpdateError(
      `Security Hub did not update the finding: ${failed.ErrorCode ?? ''} ${failed.ErrorMessage ?? ''}`.replace(/\s+/g, ' ').trim(),
      { account: finding.account, region: finding.region, resource: finding.id, ...context, ...(failed.ErrorCode === undefined ? {} : { errorCode: failed.ErrorCode }) },
      failed.ErrorCode === undefined ? {} : { errorCode: failed.ErrorCode },
    );
  }
}

function wantedChanges(context: ActionContext, wanted: Params): PlannedChange[] {
  const changes: PlannedChange[] = [];
  if (wanted.workflow !== undefined && context.finding.workflow !== wanted.workflow) {
    changes.push({ field: 'workflow', from: context.finding.workflow, to: wanted.workflow });
  }
  if (wanted.note !== undefined) {
    const note = riposteNote(context, wanted.note);
    if (context.finding.note?.text !== note) changes.push({ field: 'note', from: context.finding.note?.text ?? null, to: note });
  }
  return changes;
}

/**
 * Writes a note (by Riposte) and a workflow status on the Security Hub
 * finding: BatchUpdateFindings for ASFF findings, BatchUpdateFindingsV2 for
 * OCSF ones. Findings that did not come through Security Hub (native
 * GuardDuty or Config events, API requests) are left alone, with the reason.
 *
 * ```yaml
 * - finding.update: { workflow: NOTIFIED, note: "Isolated by Riposte" }
 * ```
 */
export const updateFinding = defineAction({
  name: 'finding.update',
  description: 'Set the Security Hub finding note and workflow status',
  params,
  target: 'finding',
  permissions: {
    member: [],
    hosting: ['securityhub:BatchUpdateFindings', 'securityhub:BatchUpdateFindingsV2', 'securityhub:GetFindings', 'securityhub:GetFindingsV2'],
  },
  changesResources: false,
  behaviour: {
    async plan(context, wanted) {
      const changes = isSecurityHubFinding(context.finding) ? wantedChanges(context, wanted) : [];
      return {
        action: 'finding.update',
        resource: context.finding.id,
        compliant: changes.length === 0,
        summary: !isSecurityHubFinding(context.finding)
          ? `not a Security Hub finding (${context.finding.source}): nothing to update`
          : changes.length === 0
            ? 'finding already carries this note and status'
            : `would set ${changes.map((change) => change.field).join(' and ')} on the finding`,
        changes,
      };
    },
    async run(context, wanted) {
      const base = { action: 'finding.update', resource: context.finding.id };
      if (!isSecurityHubFinding(context.finding)) {
        return { ...base, changed: false, summary: `not a Security Hub finding (${context.finding.source}): nothing to update`, changes: [] };
      }
      const changes = wantedChanges(context, wanted);
      if (changes.length === 0) return { ...base, changed: false, summary: 'finding already carries this note and status', changes };
      const securityHub = context.hosting.factory.create(SecurityHubClient, { region: context.finding.region });
      await updateSecurityHubFinding(
        securityHub,
        context.finding,
        { ...(wanted.note === undefined ? {} : { note: riposteNote(context, wanted.note) }), ...(wanted.workflow === undefined ? {} : { workflow: wanted.workflow }) },
        { account: context.target.account, region: context.target.region, ...(context.playbookId === undefined ? {} : { playbook: context.playbookId }), runId: context.runId },
      );
      return { ...base, changed: true, summary: `finding updated: ${changes.map((change) => change.field).join(' and ')}`, changes };
    },
    async verify(context, wanted) {
      if (!isSecurityHubFinding(context.finding)) return { compliant: true, summary: 'not a Security Hub finding: nothing to verify' };
      const securityHub = context.hosting.factory.create(SecurityHubClient, { region: context.finding.region });
      const note = wanted.note === undefined ? undefined : riposteNote(context, wanted.note);
      let workflow: string | undefined;
      let text: string | undefined;
      if (context.finding.format === 'ocsf') {
        const { Findings } = await securityHub.send(
          new GetFindingsV2Command({
            Filters: { CompositeFilters: [{ StringFilters: [{ FieldName: 'finding_info.uid', Filter: { Value: context.finding.id, Comparison: 'EQUALS' } }] }] },
            MaxResults: 1,
          }),
        );
        const found = Findings?.[0] as { status_id?: number; comment?: string } | undefined;
        workflow = Object.entries(OCSF_STATUS).find(([, id]) => id === found?.status_id)?.[0];
        text = found?.comment;
      } else {
        const { Findings } = await securityHub.send(
          new GetFindingsCommand({
            Filters: { Id: [{ Value: context.finding.id, Comparison: 'EQUALS' }], ProductArn: [{ Value: context.finding.product.arn, Comparison: 'EQUALS' }] },
            MaxResults: 1,
          }),
        );
        workflow = Findings?.[0]?.Workflow?.Status;
        text = Findings?.[0]?.Note?.Text;
      }
      const missing = [
        wanted.workflow !== undefined && workflow !== wanted.workflow ? `workflow is ${workflow ?? 'unknown'}` : undefined,
        note !== undefined && text !== note ? 'note differs' : undefined,
      ].filter((item): item is string => item !== undefined);
      return { compliant: missing.length === 0, summary: missing.length === 0 ? 'finding carries the note and status' : `finding not updated: ${missing.join(', ')}` };
    },
  },
});
