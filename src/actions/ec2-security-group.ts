import { DescribeSecurityGroupsCommand, EC2Client, type IpPermission, type SecurityGroup, type UserIdGroupPair } from '@aws-sdk/client-ec2';

import { SecurityGroupNotFoundError, isEc2Error } from './errors.js';
import type { ActionContext } from './runtime.js';

/** The step's security group id (the finding resource's first group). @throws SecurityGroupNotFoundError when it names none. */
export function securityGroupIdOf(context: ActionContext): string {
  const groupId = context.resource.securityGroupIds[0];
  if (groupId === undefined || groupId === '') throw new SecurityGroupNotFoundError(context, undefined);
  return groupId;
}

/** EC2's answers for a group id that names no group. */
const isSecurityGroupNotFound = (error: unknown): boolean => isEc2Error(error, ['InvalidGroup.NotFound', 'InvalidGroupId.Malformed', 'InvalidGroupId.NotFound']);

/** Runs `call`, turning EC2's "no such group" answers into SecurityGroupNotFoundError. */
export async function onSecurityGroup<T>(context: ActionContext, groupId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isSecurityGroupNotFound(error)) throw new SecurityGroupNotFoundError(context, groupId, error);
    throw error;
  }
}

/** The group as DescribeSecurityGroups reads it. @throws SecurityGroupNotFoundError */
export async function readSecurityGroup(context: ActionContext, groupId: string): Promise<SecurityGroup> {
  const ec2 = context.clients.create(EC2Client, context.target);
  const { SecurityGroups: groups = [] } = await onSecurityGroup(context, groupId, () => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })));
  const group = groups.find((candidate) => candidate.GroupId === groupId);
  if (group === undefined) throw new SecurityGroupNotFoundError(context, groupId);
  return group;
}

const PROTOCOL_NAMES: Readonly<Record<string, string>> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', all: '-1' };

/** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` or a protocol number, however EC2 spelled it. */
export function protocolOf(permission: IpPermission): string {
  const protocol = (permission.IpProtocol ?? '-1').toLowerCase();
  return PROTOCOL_NAMES[protocol] ?? protocol;
}

/** The same pair, keeping only what AuthorizeSecurityGroup* and Revoke* accept back (no PeeringStatus; GroupName only without GroupId). */
function cleanPair(pair: UserIdGroupPair): UserIdGroupPair {
  return {
    ...(pair.GroupId === undefined ? (pair.GroupName === undefined ? {} : { GroupName: pair.GroupName }) : { GroupId: pair.GroupId }),
    ...(pair.UserId === undefined ? {} : { UserId: pair.UserId }),
    ...(pair.VpcId === undefined ? {} : { VpcId: pair.VpcId }),
    ...(pair.VpcPeeringConnectionId === undefined ? {} : { VpcPeeringConnectionId: pair.VpcPeeringConnectionId }),
    ...(pair.Description === undefined ? {} : { Description: pair.Description }),
  };
}

/**
 * One permission per source (one CIDR, IPv6 CIDR, prefix list or group), in
 * the exact form DescribeSecurityGroups read, descriptions kept: what EC2
 * calls a security group rule.
 */
export function splitPermissions(permissions: readonly IpPermission[] | undefined): IpPermission[] {
  return (permissions ?? []).flatMap((permission) => {
    const base: IpPermission = {
      IpProtocol: permission.IpProtocol ?? '-1',
      ...(permission.FromPort === undefined ? {} : { FromPort: permission.FromPort }),
      ...(permission.ToPort === undefined ? {} : { ToPort: permission.ToPort }),
    };
    return [
      ...(permission.IpRanges ?? []).map((range) => ({ ...base, IpRanges: [{ ...range }] })),
      ...(permission.Ipv6Ranges ?? []).map((range) => ({ ...base, Ipv6Ranges: [{ ...range }] })),
      ...(permission.PrefixListIds ?? []).map((prefixList) => ({ ...base, PrefixListIds: [{ ...prefixList }] })),
      ...(permission.UserIdGroupPairs ?? []).map((pair) => ({ ...base, UserIdGroupPairs: [cleanPair(pair)] })),
    ];
  });
}

/** Single-source permissions grouped back by protocol and ports, as one Authorize/Revoke request takes them. */
export function mergePermissions(rules: readonly IpPermission[]): IpPermission[] {
  const merged = new Map<string, Required<Pick<IpPermission, 'IpRanges' | 'Ipv6Ranges' | 'PrefixListIds' | 'UserIdGroupPairs'>> & IpPermission>();
  for (const rule of rules) {
    const key = `${protocolOf(rule)} ${rule.FromPort ?? ''} ${rule.ToPort ?? ''}`;
    let permission = merged.get(key);
    if (permission === undefined) {
      permission = {
        IpProtocol: rule.IpProtocol ?? '-1',
        ...(rule.FromPort === undefined ? {} : { FromPort: rule.FromPort }),
        ...(rule.ToPort === undefined ? {} : { ToPort: rule.ToPort }),
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      };
      merged.set(key, permission);
    }
    permission.IpRanges.push(...(rule.IpRanges ?? []));
    permission.Ipv6Ranges.push(...(rule.Ipv6Ranges ?? []));
    permission.PrefixListIds.push(...(rule.PrefixListIds ?? []));
    permission.UserIdGroupPairs.push(...(rule.UserIdGroupPairs ?? []));
  }
  // Leave out empty lists: the request then carries only the sources being changed.
  return [...merged.values()].map(({ IpRanges, Ipv6Ranges, PrefixListIds, UserIdGroupPairs, ...rest }) => ({
    ...rest,
    ...(IpRanges.length === 0 ? {} : { IpRanges }),
    ...(Ipv6Ranges.length === 0 ? {} : { Ipv6Ranges }),
    ...(PrefixListIds.length === 0 ? {} : { PrefixListIds }),
    ...(UserIdGroupPairs.length === 0 ? {} : { UserIdGroupPairs }),
  }));
}

/** The source of a single-source permission: a CIDR, a prefix list id or a group id. */
export function sourceOf(rule: IpPermission): string {
  const range = rule.IpRanges?.[0]?.CidrIp ?? rule.Ipv6Ranges?.[0]?.CidrIpv6 ?? rule.PrefixListIds?.[0]?.PrefixListId;
  if (range !== undefined) return range.toLowerCase();
  const pair = rule.UserIdGroupPairs?.[0];
  return pair?.GroupId ?? pair?.GroupName ?? '?';
}

/** What makes two single-source rules the same rule to EC2 (descriptions aside). */
export function ruleKey(rule: IpPermission): string {
  const protocol = protocolOf(rule);
  return protocol === '-1' ? `-1 ${sourceOf(rule)}` : `${protocol} ${rule.FromPort ?? ''} ${rule.ToPort ?? ''} ${sourceOf(rule)}`;
}

/** `ingress tcp 22 from 0.0.0.0/0`, `egress all traffic to 0.0.0.0/0`, `ingress tcp 0-65535 from sg-…`. */
export function ruleLabel(rule: IpPermission, direction: 'ingress' | 'egress'): string {
  const protocol = protocolOf(rule);
  const ports =
    protocol === '-1'
      ? 'all traffic'
      : rule.FromPort === undefined || (rule.FromPort === -1 && (rule.ToPort ?? -1) === -1)
        ? protocol
        : rule.FromPort === rule.ToPort
          ? `${protocol} ${rule.FromPort}`
          : `${protocol} ${rule.FromPort}-${rule.ToPort}`;
  return `${direction} ${ports} ${direction === 'ingress' ? 'from' : 'to'} ${sourceOf(rule)}`;
}
