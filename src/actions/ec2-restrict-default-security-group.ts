import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { securityGroupArnOf } from './arns.js';
import { mergePermissions, onSecurityGroup, readSecurityGroup, ruleKey, ruleLabel, securityGroupIdOf, splitPermissions } from './ec2-security-group.js';
import { NotDefaultSecurityGroupError } from './errors.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

/** What the run removed, in full IpPermissions form (descriptions and group pairs kept), by direction. */
export type RestrictDefaultSecurityGroupUndo = {
  readonly groupId: string;
  readonly ingress: readonly IpPermission[];
  readonly egress: readonly IpPermission[];
};

/** The step's group, read; @throws NotDefaultSecurityGroupError unless it is a default group, SecurityGroupNotFoundError if absent. */
async function defaultGroup(context: ActionContext): Promise<{ groupId: string; ingress: IpPermission[]; egress: IpPermission[] }> {
  const groupId = securityGroupIdOf(context);
  const group: SecurityGroup = await readSecurityGroup(context, groupId);
  if (group.GroupName !== 'default') throw new NotDefaultSecurityGroupError(context, groupId, group.GroupName);
  return { groupId, ingress: splitPermissions(group.IpPermissions), egress: splitPermissions(group.IpPermissionsEgress) };
}

const removals = (ingress: readonly IpPermission[], egress: readonly IpPermission[]): PlannedChange[] => [
  ...ingress.map((rule) => ({ field: ruleLabel(rule, 'ingress'), from: rule, to: null })),
  ...egress.map((rule) => ({ field: ruleLabel(rule, 'egress'), from: rule, to: null })),
];

const labels = (ingress: readonly IpPermission[], egress: readonly IpPermission[]): string =>
  [...ingress.map((rule) => ruleLabel(rule, 'ingress')), ...egress.map((rule) => ruleLabel(rule, 'egress'))].join(', ');

/**
 * Empties a VPC's default security group (all inbound and outbound rules),
 * recording the rules it removed (EC2.2).
 *
 * The group is the finding resource's first security group
 * (`resource.securityGroupIds[0]`). It must be a default group (GroupName
 * `default`): for any other group plan, run and verify throw
 * NotDefaultSecurityGroupError rather than empty it — a playbook pointing
 * this action at an ordinary group is a mistake to stop on, not a state to
 * report. Rules are revoked by the exact IpPermissions DescribeSecurityGroups
 * read, including the self-referencing rule AWS creates (all traffic from
 * the group itself, a UserIdGroupPair); rollback authorizes again whichever
 * removed rules are missing.
 *
 * ```yaml
 * - ec2.restrict-default-security-group: {}
 * ```
 */
export const restrictDefaultSecurityGroup = defineAction({
  name: 'ec2.restrict-default-security-group',
  description: "Remove every rule from a VPC's default security group",
  params: z.strictObject({}),
  target: 'security-group',
  permissions: {
    member: ['ec2:DescribeSecurityGroups', 'ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress'],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context) {
      const { groupId, ingress, egress } = await defaultGroup(context);
      const count = ingress.length + egress.length;
      return {
        action: 'ec2.restrict-default-security-group',
        resource: securityGroupArnOf(context, groupId),
        compliant: count === 0,
        summary:
          count === 0
            ? `default security group ${groupId}: already has no rules`
            : `default security group ${groupId}: would remove ${ingress.length} ingress and ${egress.length} egress rule(s): ${labels(ingress, egress)}`,
        changes: removals(ingress, egress),
      };
    },
    async run(context) {
      // Read again, not the plan's reading: the state may have moved since.
      const { groupId, ingress, egress } = await defaultGroup(context);
      const resource = securityGroupArnOf(context, groupId);
      if (ingress.length + egress.length === 0) {
        return { action: 'ec2.restrict-default-security-group', resource, changed: false, summary: `default security group ${groupId} has no rules; nothing changed`, changes: [] };
      }
      const ec2 = context.clients.create(EC2Client, context.target);
      const removedIngress = mergePermissions(ingress);
      const removedEgress = mergePermissions(egress);
      if (removedIngress.length > 0) {
        await onSecurityGroup(context, groupId, () => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: removedIngress })));
      }
      if (removedEgress.length > 0) {
        await onSecurityGroup(context, groupId, () => ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: removedEgress })));
      }
      return {
        action: 'ec2.restrict-default-security-group',
        resource,
        changed: true,
        summary: `default security group ${groupId}: removed ${ingress.length} ingress and ${egress.length} egress rule(s): ${labels(ingress, egress)}`,
        changes: removals(ingress, egress),
        undo: { groupId, ingress: removedIngress, egress: removedEgress },
      };
    },
    async verify(context) {
      const { groupId, ingress, egress } = await defaultGroup(context);
      const count = ingress.length + egress.length;
      return {
        compliant: count === 0,
        summary: count === 0 ? `default security group ${groupId} has no rules` : `default security group ${groupId} still has ${count} rule(s): ${labels(ingress, egress)}`,
      };
    },
    async rollback(context, undo: RestrictDefaultSecurityGroupUndo) {
      const group = await readSecurityGroup(context, undo.groupId);
      const missing = (removed: readonly IpPermission[], current: readonly IpPermission[] | undefined): IpPermission[] => {
        const present = new Set(splitPermissions(current).map(ruleKey));
        return splitPermissions(removed).filter((rule) => !present.has(ruleKey(rule)));
      };
      const ingress = missing(undo.ingress, group.IpPermissions);
      const egress = missing(undo.egress, group.IpPermissionsEgress);
      const ec2 = context.clients.create(EC2Client, context.target);
      if (ingress.length > 0) {
        await onSecurityGroup(context, undo.groupId, () => ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: undo.groupId, IpPermissions: mergePermissions(ingress) })));
      }
      if (egress.length > 0) {
        await onSecurityGroup(context, undo.groupId, () => ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: undo.groupId, IpPermissions: mergePermissions(egress) })));
      }
      const count = ingress.length + egress.length;
      return {
        action: 'ec2.restrict-default-security-group',
        resource: securityGroupArnOf(context, undo.groupId),
        changed: count > 0,
        summary:
          count === 0
            ? `default security group ${undo.groupId}: the removed rules are already back; nothing changed`
            : `default security group ${undo.groupId}: restored ${ingress.length} ingress and ${egress.length} egress rule(s): ${labels(ingress, egress)}`,
        changes: [...ingress.map((rule) => ({ field: ruleLabel(rule, 'ingress'), from: null, to: rule })), ...egress.map((rule) => ({ field: ruleLabel(rule, 'egress'), from: null, to: rule }))],
      };
    },
  },
});
