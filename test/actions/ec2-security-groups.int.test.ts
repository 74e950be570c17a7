import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';

import { restrictDefaultSecurityGroup, type RestrictDefaultSecurityGroupUndo } from '../../src/actions/ec2-restrict-default-security-group.js';
import { revokeUnrestrictedIngress, type RevokeIngressUndo } from '../../src/actions/ec2-revoke-unrestricted-ingress.js';
import { NotDefaultSecurityGroupError, SecurityGroupNotFoundError } from '../../src/actions/index.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';

const MEMBER = '222222222222';
const FIXTURE = 'securityhub-imported-open-ssh.json';
/** The group the fixture's finding names; it does not exist in the emulator. */
const FIXTURE_GROUP = 'sg-0f1e2d3c4b5a69788';

const revoke = revokeUnrestrictedIngress.behaviour;
const restrict = restrictDefaultSecurityGroup.behaviour;
const defaults = revokeUnrestrictedIngress.params.parse({});

// --- helpers (this file only) ---------------------------------------------------------------

const baseContext = (): ActionContext => actionContext(FIXTURE, MEMBER);
const onGroup = (groupId: string, ctx = baseContext()): ActionContext => ({ ...ctx, resource: { ...ctx.resource, securityGroupIds: [groupId] } });
const ec2 = (ctx = baseContext()): EC2Client => ctx.clients.create(EC2Client, ctx.target);

async function createVpc(ctx = baseContext(), ipv6 = false): Promise<string> {
  const { Vpc } = await ec2(ctx).send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', ...(ipv6 ? { AmazonProvidedIpv6CidrBlock: true } : {}) }));
  return Vpc?.VpcId as string;
}

async function readGroup(groupId: string, ctx = baseContext()): Promise<SecurityGroup> {
  const { SecurityGroups } = await ec2(ctx).send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  return SecurityGroups?.[0] as SecurityGroup;
}

/** One line per source, `direction protocol ports source "description"`, sorted: a rule set to compare. */
function normalizeRules(direction: 'ingress' | 'egress', permissions: readonly IpPermission[] | undefined): string[] {
  const lines: string[] = [];
  for (const permission of permissions ?? []) {
    const ports = permission.IpProtocol === '-1' ? 'all' : `${permission.FromPort}..${permission.ToPort}`;
    const head = `${direction} ${permission.IpProtocol} ${ports}`;
    const described = (source: string | undefined, description: string | undefined) => `${head} ${source}${description === undefined ? '' : ` "${description}"`}`;
    for (const range of permission.IpRanges ?? []) lines.push(described(range.CidrIp, range.Description));
    for (const range of permission.Ipv6Ranges ?? []) lines.push(described(range.CidrIpv6, range.Description));
    for (const list of permission.PrefixListIds ?? []) lines.push(described(list.PrefixListId, list.Description));
    for (const pair of permission.UserIdGroupPairs ?? []) lines.push(described(pair.GroupId, pair.Description));
  }
  return lines.sort();
}

const normalizeGroup = (group: SecurityGroup): string[] => [...normalizeRules('ingress', group.IpPermissions), ...normalizeRules('egress', group.IpPermissionsEgress)].sort();

/**
 * A group in a new VPC of the member account with every shape of rule the
 * action must tell apart: exact ports, ranges, all traffic, IPv4 and IPv6,
 * a rule whose other sources must stay, and rules that do not offend.
 */
async function createOpenGroup(ctx = baseContext()): Promise<string> {
  const vpcId = await createVpc(ctx);
  const client = ec2(ctx);
  const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'bastion-legacy-sg', Description: 'legacy bastion', VpcId: vpcId }));
  const groupId = GroupId as string;
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'ssh from anywhere' }] },
        { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, Ipv6Ranges: [{ CidrIpv6: '::/0' }], UserIdGroupPairs: [{ GroupId: groupId, Description: 'rdp from itself' }] },
        { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        { IpProtocol: 'udp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }, { CidrIp: '10.0.0.0/8', Description: 'corp' }] },
        { IpProtocol: 'tcp', FromPort: 20, ToPort: 25, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        { IpProtocol: 'tcp', FromPort: 1000, ToPort: 2000, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
  // A second call for the same protocol and port: EC2 (and moto) show it merged into the tcp 22 permission.
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'corp' }] }] }),
  );
  return groupId;
}

/** What must stay of createOpenGroup's group after the revoke with default parameters. */
const remainingAfterRevoke = (groupId: string): string[] =>
  [
    'ingress tcp 22..22 10.0.0.0/8 "corp"',
    'ingress udp 22..22 10.0.0.0/8 "corp"',
    `ingress tcp 3389..3389 ${groupId} "rdp from itself"`,
    'ingress tcp 443..443 0.0.0.0/0',
    'ingress tcp 443..443 ::/0',
    'ingress tcp 1000..2000 0.0.0.0/0',
    'ingress icmp -1..-1 0.0.0.0/0',
    'egress -1 all 0.0.0.0/0',
  ].sort();

/** What the revoke with default parameters removes, normalized. */
const revokedByDefault = [
  'ingress tcp 22..22 0.0.0.0/0 "ssh from anywhere"',
  'ingress tcp 3389..3389 ::/0',
  'ingress tcp 0..65535 0.0.0.0/0',
  'ingress -1 all ::/0',
  'ingress udp 22..22 0.0.0.0/0',
  'ingress tcp 20..25 0.0.0.0/0',
].sort();

/**
 * The default group of a new dual-stack VPC (egress to 0.0.0.0/0 and ::/0,
 * as AWS and moto both create it), with the self-referencing ingress rule
 * AWS creates and moto leaves out, plus SSH opened to the world.
 *
 * Dual-stack on purpose: moto's RevokeSecurityGroupEgress silently drops
 * Ipv6Ranges from the request when the group's VPC has no IPv6 CIDR (while
 * AuthorizeSecurityGroupEgress accepts them), so an ::/0 egress rule in an
 * IPv4-only VPC cannot be revoked there. AWS adds ::/0 egress to a default
 * group only in a VPC with IPv6, which is what this sets up.
 */
async function prepareDefaultGroup(ctx = baseContext()): Promise<string> {
  const vpcId = await createVpc(ctx, true);
  const client = ec2(ctx);
  const { SecurityGroups } = await client.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: ['default'] },
      ],
    }),
  );
  const groupId = SecurityGroups?.[0]?.GroupId as string;
  expect(groupId).toMatch(/^sg-/);
  // moto's default group lacks AWS's "all traffic from itself" rule: add it, as AWS has it.
  await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }] }));
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'temporary' }] }],
    }),
  );
  return groupId;
}

// --- tests ----------------------------------------------------------------------------------

describe('ec2.revoke-unrestricted-ingress against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('declares exactly the EC2 calls it makes', () => {
    expect([...revokeUnrestrictedIngress.permissions.member].sort()).toEqual(['ec2:AuthorizeSecurityGroupIngress', 'ec2:DescribeSecurityGroups', 'ec2:RevokeSecurityGroupIngress'].sort());
  });

  it('plans, revokes only the offending sources, verifies, changes nothing the second time, and rolls back', async () => {
    const groupId = await createOpenGroup();
    const ctx = onGroup(groupId);
    const original = normalizeGroup(await readGroup(groupId));

    const plan = await revoke.plan(ctx, defaults);
    expect(plan.compliant).toBe(false);
    expect(plan.resource).toBe(`arn:aws:ec2:us-east-1:${MEMBER}:security-group/${groupId}`);
    expect(plan.changes.map((change) => change.field).sort()).toEqual(
      [
        'ingress tcp 22 from 0.0.0.0/0',
        'ingress tcp 3389 from ::/0',
        'ingress tcp 0-65535 from 0.0.0.0/0',
        'ingress all traffic from ::/0',
        'ingress udp 22 from 0.0.0.0/0',
        'ingress tcp 20-25 from 0.0.0.0/0',
      ].sort(),
    );
    expect(plan.changes.every((change) => change.to === null)).toBe(true);
    expect(normalizeGroup(await readGroup(groupId))).toEqual(original); // plan changes nothing
    expect((await revoke.verify(ctx, defaults)).compliant).toBe(false);

    const first = await revoke.run(ctx, defaults);

    expect(first.changed).toBe(true);
    expect(first.changes).toHaveLength(6);
    expect(first.undo?.groupId).toBe(groupId);
    expect(normalizeRules('ingress', first.undo?.removed)).toEqual(revokedByDefault);
    expect(normalizeGroup(await readGroup(groupId))).toEqual(remainingAfterRevoke(groupId));
    expect(await revoke.verify(ctx, defaults)).toMatchObject({ compliant: true });
    expect((await revoke.plan(ctx, defaults)).compliant).toBe(true);

    const second = await revoke.run(ctx, defaults);
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(second.undo).toBeUndefined();

    const rolledBack = await revoke.rollback?.(ctx, first.undo as RevokeIngressUndo);
    expect(rolledBack).toMatchObject({ changed: true });
    expect(rolledBack?.changes).toHaveLength(6);
    expect(normalizeGroup(await readGroup(groupId))).toEqual(original);
    expect((await revoke.verify(ctx, defaults)).compliant).toBe(false);

    // Rollback reads first too: a second one finds the rules back and changes nothing.
    expect(await revoke.rollback?.(ctx, first.undo as RevokeIngressUndo)).toMatchObject({ changed: false, changes: [] });
  });

  it('honours custom ports and CIDRs', async () => {
    const groupId = await createOpenGroup();
    const ctx = onGroup(groupId);
    const wanted = revokeUnrestrictedIngress.params.parse({ ports: [443], cidrs: ['::/0'] });

    const outcome = await revoke.run(ctx, wanted);

    // ::/0 on 443: the 443 rule's IPv6 source and the all-traffic rule; tcp 0-65535 is from 0.0.0.0/0 only.
    expect(normalizeRules('ingress', outcome.undo?.removed)).toEqual(['ingress -1 all ::/0', 'ingress tcp 443..443 ::/0'].sort());
    const after = normalizeGroup(await readGroup(groupId));
    expect(after).toContain('ingress tcp 443..443 0.0.0.0/0');
    expect(after).toContain('ingress tcp 0..65535 0.0.0.0/0');
    expect(after).toContain('ingress tcp 3389..3389 ::/0');
    expect(after).not.toContain('ingress tcp 443..443 ::/0');
    expect(after).not.toContain('ingress -1 all ::/0');
    expect((await revoke.verify(ctx, wanted)).compliant).toBe(true);
    expect((await revoke.verify(ctx, defaults)).compliant).toBe(false);
  });

  it('leaves a group with nothing open alone', async () => {
    const ctx = baseContext();
    const { GroupId } = await ec2(ctx).send(new CreateSecurityGroupCommand({ GroupName: 'closed', Description: 'closed', VpcId: await createVpc(ctx) }));
    await ec2(ctx).send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }));
    const grouped = onGroup(GroupId as string, ctx);

    expect(await revoke.plan(grouped, defaults)).toMatchObject({ compliant: true, changes: [] });
    const outcome = await revoke.run(grouped, defaults);
    expect(outcome).toMatchObject({ changed: false, changes: [] });
    expect(outcome.undo).toBeUndefined();
    expect(normalizeGroup(await readGroup(GroupId as string))).toEqual(['egress -1 all 0.0.0.0/0', 'ingress tcp 22..22 10.0.0.0/8']);
  });

  it('throws SecurityGroupNotFoundError, with account, region and resource, for a group that does not exist or is not named', async () => {
    const ctx = baseContext();
    expect(ctx.resource.securityGroupIds).toEqual([FIXTURE_GROUP]); // the fixture's group, absent from the emulator

    for (const call of [() => revoke.plan(ctx, defaults), () => revoke.run(ctx, defaults), () => revoke.verify(ctx, defaults)]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SecurityGroupNotFoundError);
      expect(error).toMatchObject({
        code: 'EC2_SECURITY_GROUP_NOT_FOUND',
        groupId: FIXTURE_GROUP,
        context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:security-group/${FIXTURE_GROUP}` },
      });
      expect((error as Error).cause).toMatchObject({ name: 'InvalidGroup.NotFound' });
    }
    await expect(revoke.rollback?.(ctx, { groupId: FIXTURE_GROUP, removed: [] })).rejects.toBeInstanceOf(SecurityGroupNotFoundError);

    const unnamed = { ...ctx, resource: { ...ctx.resource, securityGroupIds: [] } };
    await expect(revoke.run(unnamed, defaults)).rejects.toMatchObject({ name: 'SecurityGroupNotFoundError', groupId: undefined, context: { account: MEMBER, region: 'us-east-1' } });
  });
});

describe('ec2.restrict-default-security-group against the emulator, in member account 222222222222', () => {
  beforeEach(() => resetEmulator());

  it('declares exactly the EC2 calls it makes', () => {
    expect([...restrictDefaultSecurityGroup.permissions.member].sort()).toEqual(
      ['ec2:AuthorizeSecurityGroupEgress', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:DescribeSecurityGroups', 'ec2:RevokeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress'].sort(),
    );
  });

  it('plans, empties the default group (self-referencing rule included), verifies, changes nothing the second time, and rolls back', async () => {
    const groupId = await prepareDefaultGroup();
    const ctx = onGroup(groupId);
    const original = normalizeGroup(await readGroup(groupId));
    expect(original).toEqual([`ingress -1 all ${groupId}`, 'ingress tcp 22..22 0.0.0.0/0 "temporary"', 'egress -1 all 0.0.0.0/0', 'egress -1 all ::/0'].sort());

    const plan = await restrict.plan(ctx, {});
    expect(plan.compliant).toBe(false);
    expect(plan.changes.map((change) => change.field).sort()).toEqual(
      [`ingress all traffic from ${groupId}`, 'ingress tcp 22 from 0.0.0.0/0', 'egress all traffic to 0.0.0.0/0', 'egress all traffic to ::/0'].sort(),
    );
    expect(normalizeGroup(await readGroup(groupId))).toEqual(original); // plan changes nothing
    expect((await restrict.verify(ctx, {})).compliant).toBe(false);

    const first = await restrict.run(ctx, {});

    expect(first.changed).toBe(true);
    const emptied = await readGroup(groupId);
    expect(emptied.IpPermissions ?? []).toEqual([]);
    expect(emptied.IpPermissionsEgress ?? []).toEqual([]);
    expect([...normalizeRules('ingress', first.undo?.ingress), ...normalizeRules('egress', first.undo?.egress)].sort()).toEqual(original);
    expect(await restrict.verify(ctx, {})).toEqual({ compliant: true, summary: `default security group ${groupId} has no rules` });

    const second = await restrict.run(ctx, {});
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(second.undo).toBeUndefined();

    const rolledBack = await restrict.rollback?.(ctx, first.undo as RestrictDefaultSecurityGroupUndo);
    expect(rolledBack).toMatchObject({ changed: true });
    expect(normalizeGroup(await readGroup(groupId))).toEqual(original);
    expect((await restrict.verify(ctx, {})).compliant).toBe(false);
    expect(await restrict.rollback?.(ctx, first.undo as RestrictDefaultSecurityGroupUndo)).toMatchObject({ changed: false, changes: [] });
  });

  it('refuses a group that is not a default group, changing nothing', async () => {
    const groupId = await createOpenGroup();
    const ctx = onGroup(groupId);
    const before = normalizeGroup(await readGroup(groupId));

    for (const call of [() => restrict.plan(ctx, {}), () => restrict.run(ctx, {}), () => restrict.verify(ctx, {})]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotDefaultSecurityGroupError);
      expect(error).toMatchObject({
        code: 'EC2_NOT_DEFAULT_SECURITY_GROUP',
        groupName: 'bastion-legacy-sg',
        context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:security-group/${groupId}` },
      });
    }
    expect(normalizeGroup(await readGroup(groupId))).toEqual(before);
  });

  it('throws SecurityGroupNotFoundError for a group that does not exist', async () => {
    const ctx = baseContext();
    await expect(restrict.run(ctx, {})).rejects.toMatchObject({
      name: 'SecurityGroupNotFoundError',
      code: 'EC2_SECURITY_GROUP_NOT_FOUND',
      context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:security-group/${FIXTURE_GROUP}` },
    });
    await expect(restrict.plan(ctx, {})).rejects.toBeInstanceOf(SecurityGroupNotFoundError);
  });
});
