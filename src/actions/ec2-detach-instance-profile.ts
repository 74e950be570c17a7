import { AssociateIamInstanceProfileCommand, DisassociateIamInstanceProfileCommand, EC2Client } from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { assertInstanceExists, instanceIdOf, liveProfileAssociation, onInstance } from './ec2-instance.js';
import { InstanceProfileConflictError } from './errors.js';
import { defineAction } from './registry.js';
import type { ActionContext } from './runtime.js';

const ACTION = 'ec2.detach-instance-profile';

/** An instance profile association that gives (or is about to give) the instance credentials. */
export interface ProfileAssociation {
  readonly associationId: string;
  readonly instanceProfileArn: string;
}

/** What the run removed: the profile to re-associate on rollback, and the association it ended. */
/** The profile detached (the association id is for the record: rollback associates the profile again, by its ARN). */
export type DetachInstanceProfileUndo = { readonly instanceId: string; readonly instanceProfileArn: string; readonly associationId?: string };

/**
 * The instance's live profile association (state `associating` or
 * `associated`), or `null`. DescribeIamInstanceProfileAssociations answers
 * an unknown instance id with an empty list, so callers check the instance
 * exists first.
 */
export async function currentAssociation(context: ActionContext, instanceId: string): Promise<ProfileAssociation | null> {
  const ec2 = context.clients.create(EC2Client, context.target);
  const live = await onInstance(ACTION, context, instanceId, () => liveProfileAssociation(ec2, instanceId));
  if (live?.AssociationId === undefined || live.IamInstanceProfile?.Arn === undefined) return null;
  return { associationId: live.AssociationId, instanceProfileArn: live.IamInstanceProfile.Arn };
}

/**
 * Removes the instance profile from the instance, recording it for rollback.
 *
 * ```yaml
 * - ec2.detach-instance-profile: {}
 * ```
 */
export const detachInstanceProfile = defineAction({
  name: ACTION,
  description: 'Detach the instance profile (recorded so rollback can re-associate it)',
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: ['ec2:DescribeInstances', 'ec2:DescribeIamInstanceProfileAssociations', 'ec2:DisassociateIamInstanceProfile', 'ec2:AssociateIamInstanceProfile', 'iam:PassRole'],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context) {
      const instanceId = instanceIdOf(ACTION, context);
      await assertInstanceExists(ACTION, context, instanceId);
      const association = await currentAssociation(context, instanceId);
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        compliant: association === null,
        summary:
          association === null
            ? `instance ${instanceId}: no instance profile attached`
            : `instance ${instanceId}: would detach instance profile ${association.instanceProfileArn} (${association.associationId})`,
        changes: association === null ? [] : [{ field: 'IamInstanceProfile', from: association.instanceProfileArn, to: null }],
      };
    },
    async run(context) {
      const instanceId = instanceIdOf(ACTION, context);
      await assertInstanceExists(ACTION, context, instanceId);
      const association = await currentAssociation(context, instanceId);
      if (association === null) {
        return {
          action: ACTION,
          resource: instanceArnOf(context, instanceId),
          changed: false,
          summary: `instance ${instanceId}: no instance profile attached; nothing changed`,
          changes: [],
        };
      }
      const ec2 = context.clients.create(EC2Client, context.target);
      await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: association.associationId }));
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        changed: true,
        summary: `instance ${instanceId}: detached instance profile ${association.instanceProfileArn}`,
        changes: [{ field: 'IamInstanceProfile', from: association.instanceProfileArn, to: null }],
        undo: { instanceId, instanceProfileArn: association.instanceProfileArn, associationId: association.associationId },
      };
    },
    async verify(context) {
      const instanceId = instanceIdOf(ACTION, context);
      await assertInstanceExists(ACTION, context, instanceId);
      const association = await currentAssociation(context, instanceId);
      return {
        compliant: association === null,
        summary: association === null ? `instance ${instanceId}: no instance profile attached` : `instance ${instanceId}: instance profile ${association.instanceProfileArn} still attached`,
      };
    },
    undoOfPlanned(context, planned) {
      const detached = planned.find((change) => change.field === 'IamInstanceProfile')?.from;
      return typeof detached === 'string' ? { instanceId: instanceIdOf(ACTION, context), instanceProfileArn: detached } : undefined;
    },
    async rollback(context, undo: DetachInstanceProfileUndo) {
      const { instanceId, instanceProfileArn } = undo;
      await assertInstanceExists(ACTION, context, instanceId);
      const association = await currentAssociation(context, instanceId);
      if (association !== null) {
        if (association.instanceProfileArn !== instanceProfileArn) throw new InstanceProfileConflictError(context, instanceId, association.instanceProfileArn, instanceProfileArn);
        return {
          action: ACTION,
          resource: instanceArnOf(context, instanceId),
          changed: false,
          summary: `instance ${instanceId}: instance profile ${instanceProfileArn} already attached`,
          changes: [],
        };
      }
      const ec2 = context.clients.create(EC2Client, context.target);
      await onInstance(ACTION, context, instanceId, () => ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: instanceProfileArn } })));
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        changed: true,
        summary: `instance ${instanceId}: re-associated instance profile ${instanceProfileArn}`,
        changes: [{ field: 'IamInstanceProfile', from: null, to: instanceProfileArn }],
      };
    },
  },
});
