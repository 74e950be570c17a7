import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  GetFindingsCommand,
  GetFindingsV2Command,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { z } from 'zod';

import { RiposteError } from '../errors.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

/** `Note.UpdatedBy` on every note Riposte writes: how later stages recognise Riposte's own updates. */
export const RIPOSTE_NOTE_AUTHOR = 'riposte';
/** OCSF comments have no author: Riposte's start with this marker instead. */
export const RIPOSTE_COMMENT_MARKER = '[riposte';

const params = z
  .strictObject({
    workflow: z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']).optional(),
    note: z.string().min(1).max(400).optional(),
  })
  .refine((value) => value.workflow !== undefined || value.note !== undefined, 'needs workflow or note');
type Params = z.output<typeof params>;

/** OCSF `status_id` for each workflow status (In Progress stands for NOTIFIED). */
const OCSF_STATUS: Readonly<Record<string, number>> = { NEW: 1, NOTIFIED: 2, SUPPRESSED: 3, RESOLVED: 4 };

/** Security Hub did not take the update for this finding. */
export class FindingUpdateError extends RiposteError {
  readonly code = 'FINDING_UPDATE_FAILED';
  constructor(message: string, context: ActionContext, cause?: unknown) {
    super(message, { context: { account: context.target.account, region: context.target.region, resource: context.finding.id }, cause, retryable: true });
  }
}

/** The note as written: who wrote it, in which run and playbook, and the text. Within Security Hub's 512 characters. */
export function riposteNote(context: ActionContext, text: string): string {
  const header = `${RIPOSTE_COMMENT_MARKER} run ${context.runId}${context.playbookId === undefined ? '' : ` playbook ${context.playbookId}`}]`;
  return `${header} ${text}`.slice(0, 512);
}

const isSecurityHubFinding = (context: ActionContext): boolean => context.finding.source === 'securityhub' && context.finding.product.arn !== undefined;

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
  reversible: false,
  behaviour: {
    async plan(context, wanted) {
      const changes = isSecurityHubFinding(context) ? wantedChanges(context, wanted) : [];
      return {
        action: 'finding.update',
        resource: context.finding.id,
        compliant: changes.length === 0,
        summary: !isSecurityHubFinding(context)
          ? `not a Security Hub finding (${context.finding.source}): nothing to update`
          : changes.length === 0
            ? 'finding already carries this note and status'
            : `would set ${changes.map((change) => change.field).join(' and ')} on the finding`,
        changes,
      };
    },
    async run(context, wanted) {
      const base = { action: 'finding.update', resource: context.finding.id };
      if (!isSecurityHubFinding(context)) {
        return { ...base, changed: false, summary: `not a Security Hub finding (${context.finding.source}): nothing to update`, changes: [] };
      }
      const changes = wantedChanges(context, wanted);
      if (changes.length === 0) return { ...base, changed: false, summary: 'finding already carries this note and status', changes };
      const securityHub = context.hosting.factory.create(SecurityHubClient, { region: context.finding.region });
      const note = wanted.note === undefined ? undefined : riposteNote(context, wanted.note);
      if (context.finding.format === 'ocsf') {
        const result = await securityHub.send(
          new BatchUpdateFindingsV2Command({
            FindingIdentifiers: [{ CloudAccountUid: context.finding.account, FindingInfoUid: context.finding.id, MetadataProductUid: context.finding.product.arn as string }],
            ...(note === undefined ? {} : { Comment: note }),
            ...(wanted.workflow === undefined ? {} : { StatusId: OCSF_STATUS[wanted.workflow] }),
          }),
        );
        const failed = result.UnprocessedFindings?.[0];
        if (failed !== undefined) throw new FindingUpdateError(`Security Hub did not update the finding: ${failed.ErrorCode} ${failed.ErrorMessage ?? ''}`.trim(), context);
      } else {
        const result = await securityHub.send(
          new BatchUpdateFindingsCommand({
            FindingIdentifiers: [{ Id: context.finding.id, ProductArn: context.finding.product.arn as string }],
            ...(note === undefined ? {} : { Note: { Text: note, UpdatedBy: RIPOSTE_NOTE_AUTHOR } }),
            ...(wanted.workflow === undefined ? {} : { Workflow: { Status: wanted.workflow } }),
          }),
        );
        const failed = result.UnprocessedFindings?.[0];
        if (failed !== undefined) throw new FindingUpdateError(`Security Hub did not update the finding: ${failed.ErrorCode} ${failed.ErrorMessage ?? ''}`.trim(), context);
      }
      return { ...base, changed: true, summary: `finding updated: ${changes.map((change) => change.field).join(' and ')}`, changes };
    },
    async verify(context, wanted) {
      if (!isSecurityHubFinding(context)) return { compliant: true, summary: 'not a Security Hub finding: nothing to verify' };
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
            Filters: { Id: [{ Value: context.finding.id, Comparison: 'EQUALS' }], ProductArn: [{ Value: context.finding.product.arn as string, Comparison: 'EQUALS' }] },
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
