import { AuthorizeSecurityGroupIngressCommand, EC2Client, RevokeSecurityGroupIngressCommand, type IpPermission } from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { securityGroupArnOf } from './arns.js';
import { mergePermissions, onSecurityGroup, protocolOf, readSecurityGroup, ruleKey, ruleLabel, securityGroupIdOf, splitPermissions } from './ec2-security-group.js';
import { defineAction } from './registry.js';
import type { PlannedChange } from './runtime.js';

const cidr = z.string().check(z.regex(/^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/, 'must be an IPv4 or IPv6 CIDR'));

const params = z.strictObject({
  ports: z._default(z.array(z.number().check(z.int(), z.minimum(0), z.maximum(65535))).check(z.minLength(1)), [22, 3389]),
  cidrs: z._default(z.array(cidr).check(z.minLength(1)), ['0.0.0.0/0', '::/0']),
});
type Params = z.output<typeof params>;

/** What the run removed: the group, and the removed rules in full IpPermissions form (descriptions kept). */
export type RevokeIngressUndo = { readonly groupId: string; readonly removed: readonly IpPermission[] };

/** Whether the rule lets traffic reach `port`: protocol -1 (all traffic), or tcp/udp with a port range containing it. icmp and other protocols have no ports. */
export function coversPort(rule: IpPermission, port: number): boolean {
  const protocol = protocolOf(rule);
  if (protocol === '-1') return true;
  if (protocol !== 'tcp' && protocol !== 'udp') return false;
  const from = rule.FromPort === undefined || rule.FromPort < 0 ? 0 : rule.FromPort;
  const to = rule.ToPort === undefined || rule.ToPort < 0 ? 65535 : rule.ToPort;
  return from <= port && port <= to;
}

/** The single-source ingress rules open to one of `cidrs` on one of `ports`. */
export function offendingRules(permissions: readonly IpPermission[] | undefined, wanted: Params): IpPermission[] {
  const open = new Set(wanted.cidrs.map((range) => range.toLowerCase()));
  return splitPermissions(permissions).filter((rule) => {
    const range = rule.IpRanges?.[0]?.CidrIp ?? rule.Ipv6Ranges?.[0]?.CidrIpv6;
    return range !== undefined && open.has(range.toLowerCase()) && wanted.ports.some((port) => coversPort(rule, port));
  });
}

const removal = (rule: IpPermission): PlannedChange => ({ field: ruleLabel(rule, 'ingress'), from: rule, to: null });
const labels = (rules: readonly IpPermission[]): string => rules.map((rule) => ruleLabel(rule, 'ingress')).join(', ');
const scope = (wanted: Params): string => `${wanted.cidrs.join(', ')} on ports ${wanted.ports.join(', ')}`;

/**
 * Revokes ingress rules of a security group that open the given ports to
 * the whole internet (0.0.0.0/0, ::/0), recording each removed rule.
 *
 * A rule offends when it allows one of `cidrs` and covers one of `ports`:
 * tcp or udp with a port range containing the port (22, 20-25, 0-65535), or
 * protocol -1 (all traffic); icmp and other protocols never do. Only the
 * offending CIDR is revoked from a rule that also allows other sources
 * (10.0.0.0/8, a prefix list, a group): revocation is by the exact
 * IpPermissions DescribeSecurityGroups read, one source at a time, so every
 * other rule and source stays. The removed rules are the undo record;
 * rollback authorizes again those that are missing.
 *
 * The group is the finding resource's first security group
 * (`resource.securityGroupIds[0]`).
 *
 * ```yaml
 * - ec2.revoke-unrestricted-ingress: { ports: [22, 3389] }
 * ```
 */
export const revokeUnrestrictedIngress = defineAction({
  name: 'ec2.revoke-unrestricted-ingress',
  description: 'Revoke security group ingress open to 0.0.0.0/0 or ::/0 on the given ports',
  params,
  target: 'security-group',
  permissions: {
    member: ['ec2:DescribeSecurityGroups', 'ec2:RevokeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupIngress'],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context, wanted) {
      const groupId = securityGroupIdOf(context);
      const offending = offendingRules((await readSecurityGroup(context, groupId)).IpPermissions, wanted);
      return {
        action: 'ec2.revoke-unrestricted-ingress',
        resource: securityGroupArnOf(context, groupId),
        compliant: offending.length === 0,
        summary:
          offending.length === 0
            ? `security group ${groupId}: no ingress open to ${scope(wanted)}`
            : `security group ${groupId}: would revoke ${offending.length} ingress rule(s): ${labels(offending)}`,
        changes: offending.map(removal),
      };
    },
    async run(context, wanted) {
      const groupId = securityGroupIdOf(context);
      // Read again, not the plan's reading: the state may have moved since.
      const offending = offendingRules((await readSecurityGroup(context, groupId)).IpPermissions, wanted);
      const resource = securityGroupArnOf(context, groupId);
      if (offending.length === 0) {
        return { action: 'ec2.revoke-unrestricted-ingress', resource, changed: false, summary: `no ingress open to ${scope(wanted)}; nothing changed`, changes: [] };
      }
      const removed = mergePermissions(offending);
      const ec2 = context.clients.create(EC2Client, context.target);
      await onSecurityGroup(context, groupId, () => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: removed })));
      return {
        action: 'ec2.revoke-unrestricted-ingress',
        resource,
        changed: true,
        summary: `security group ${groupId}: revoked ${offending.length} ingress rule(s): ${labels(offending)}`,
        changes: offending.map(removal),
        undo: { groupId, removed },
      };
    },
    async verify(context, wanted) {
      const groupId = securityGroupIdOf(context);
      const offending = offendingRules((await readSecurityGroup(context, groupId)).IpPermissions, wanted);
      return {
        compliant: offending.length === 0,
        summary: offending.length === 0 ? `security group ${groupId}: no ingress open to ${scope(wanted)}` : `security group ${groupId} still allows: ${labels(offending)}`,
      };
    },
    async rollback(context, undo: RevokeIngressUndo) {
      const present = new Set(splitPermissions((await readSecurityGroup(context, undo.groupId)).IpPermissions).map(ruleKey));
      const missing = splitPermissions(undo.removed).filter((rule) => !present.has(ruleKey(rule)));
      if (missing.length > 0) {
        const ec2 = context.clients.create(EC2Client, context.target);
        await onSecurityGroup(context, undo.groupId, () => ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: undo.groupId, IpPermissions: mergePermissions(missing) })));
      }
      return {
        action: 'ec2.revoke-unrestricted-ingress',
        resource: securityGroupArnOf(context, undo.groupId),
        changed: missing.length > 0,
        summary:
          missing.length === 0
            ? `security group ${undo.groupId}: the revoked rules are already back; nothing changed`
            : `security group ${undo.groupId}: re-authorized ${missing.length} ingress rule(s): ${labels(missing)}`,
        changes: missing.map((rule) => ({ field: ruleLabel(rule, 'ingress'), from: null, to: rule })),
      };
    },
  },
});
