import {
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
  type ModifyNetworkInterfaceAttributeCommandInput,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ALLOW_ALL_GROUP_NAME, PREVIOUS_GROUPS_TAG, isolateInstance, previousGroupsTagValue, type IsolateUndo } from '../../src/actions/ec2-isolate.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { memberRoleWith, setIamEnforcement } from '../support/least-privilege.js';

const MEMBER = '222222222222';
const FIXTURE = 'guardduty-ec2-backdoor.json';
/** An AMI moto 5.2.1 ships (DescribeImages lists it). */
const AMI = 'ami-12c6146b';
const behaviour = isolateInstance.behaviour;
const defaults = isolateInstance.params.parse({});

const ec2Of = (ctx: ActionContext): EC2Client => ctx.clients.create(EC2Client, ctx.target);

/**
 * Launches an instance whose primary interface is in `groups`. Through
 * `NetworkInterfaces`, not `SecurityGroupIds`: moto reports an attached
 * interface's groups as its own groups *united with* the instance-level
 * groups given at launch, so with `SecurityGroupIds` no
 * ModifyNetworkInterfaceAttribute could ever remove those groups from what
 * DescribeNetworkInterfaces answers (AWS has no such instance-level set).
 */
async function launch(ctx: ActionContext, subnetId: string, groups: string[]): Promise<{ instanceId: string; primaryEni: string }> {
  const { Instances } = await ec2Of(ctx).send(
    new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: groups }] }),
  );
  const instance = Instances?.[0];
  return { instanceId: instance?.InstanceId as string, primaryEni: instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string };
}

interface Lab {
  readonly ctx: ActionContext;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly web: string;
  readonly admin: string;
  readonly instanceId: string;
  readonly primaryEni: string;
  readonly secondaryEni: string;
  /** Every ModifyNetworkInterfaceAttribute request the member EC2 client sent, in order. */
  readonly modifications: ModifyNetworkInterfaceAttributeCommandInput[];
}

/**
 * In the member account: a VPC, a subnet, two groups with rules, and an
 * instance with two interfaces (the primary in `web`, a second one attached
 * at device index 1 in `admin` and `web`). The context's resource is the
 * fixture's, pointed at that instance.
 */
async function lab(): Promise<Lab> {
  const base = actionContext(FIXTURE, MEMBER);
  const ec2 = ec2Of(base);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc?.VpcId as string;
  const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.3.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet?.SubnetId as string;
  const web = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'web', Description: 'web servers' }))).GroupId as string;
  const admin = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'admin', Description: 'admin access' }))).GroupId as string;
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: admin, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }));

  const { instanceId, primaryEni } = await launch(base, subnetId, [web]);
  const secondaryEni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [admin, web], Description: 'second interface' }))).NetworkInterface
    ?.NetworkInterfaceId as string;
  await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: secondaryEni, InstanceId: instanceId, DeviceIndex: 1 }));

  // The action gets this same (cached) client: record what it asks EC2 to change.
  const modifications: ModifyNetworkInterfaceAttributeCommandInput[] = [];
  ec2.middlewareStack.add(
    (next, handlerContext) => async (args) => {
      if (handlerContext.commandName === 'ModifyNetworkInterfaceAttributeCommand') modifications.push(structuredClone(args.input as ModifyNetworkInterfaceAttributeCommandInput));
      return next(args);
    },
    { step: 'initialize', name: 'recordInterfaceModifications' },
  );

  const ctx: ActionContext = { ...base, resource: { ...base.resource, instanceId } };
  return { ctx, vpcId, subnetId, web, admin, instanceId, primaryEni, secondaryEni, modifications };
}

/** Each interface's group ids, as DescribeNetworkInterfaces answers. */
async function groupsOf(ctx: ActionContext, eniIds: string[]): Promise<Record<string, string[]>> {
  const { NetworkInterfaces } = await ec2Of(ctx).send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: eniIds }));
  return Object.fromEntries((NetworkInterfaces ?? []).map((eni): [string, string[]] => [eni.NetworkInterfaceId ?? '', (eni.Groups ?? []).map((group) => group.GroupId ?? '')]));
}

async function groupsNamed(ctx: ActionContext, vpcId: string, name: string): Promise<SecurityGroup[]> {
  const { SecurityGroups } = await ec2Of(ctx).send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  return SecurityGroups ?? [];
}

async function instanceTag(ctx: ActionContext, instanceId: string, key: string): Promise<string | undefined> {
  const { Reservations } = await ec2Of(ctx).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Reservations?.[0]?.Instances?.[0]?.Tags?.find((tag) => tag.Key === key)?.Value;
}

const allTrafficFrom = (permissions: SecurityGroup['IpPermissions']) =>
  (permissions ?? [])
    .filter((permission) => permission.IpProtocol === '-1')
    .flatMap((permission) => [...(permission.IpRanges ?? []).map((range) => range.CidrIp), ...(permission.Ipv6Ranges ?? []).map((range) => range.CidrIpv6)])
    .sort();

describe('ec2.isolate against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('plans, isolates both interfaces through the allow-all group, verifies, changes nothing the second time, and rolls back', async () => {
    const { ctx, vpcId, web, admin, instanceId, primaryEni, secondaryEni, modifications } = await lab();
    const original = { [primaryEni]: [web], [secondaryEni]: [admin, web] };
    expect(await groupsOf(ctx, [primaryEni, secondaryEni])).toEqual(original);

    const plan = await behaviour.plan(ctx, defaults);
    expect(plan).toMatchObject({ action: 'ec2.isolate', resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/${instanceId}`, compliant: false });
    expect(plan.changes).toEqual([
      { field: `networkInterfaces.${primaryEni}.groups`, from: [web], to: ['riposte-quarantine'] },
      { field: `networkInterfaces.${secondaryEni}.groups`, from: [admin, web], to: ['riposte-quarantine'] },
    ]);
    // plan reads only
    expect(await groupsOf(ctx, [primaryEni, secondaryEni])).toEqual(original);
    expect(await groupsNamed(ctx, vpcId, 'riposte-quarantine')).toEqual([]);
    expect(await groupsNamed(ctx, vpcId, ALLOW_ALL_GROUP_NAME)).toEqual([]);
    expect(modifications).toEqual([]);
    expect((await behaviour.verify(ctx, defaults)).compliant).toBe(false);

    const first = await behaviour.run(ctx, defaults);

    const [quarantine] = await groupsNamed(ctx, vpcId, 'riposte-quarantine');
    const [allowAll] = await groupsNamed(ctx, vpcId, ALLOW_ALL_GROUP_NAME);
    const q = quarantine?.GroupId as string;
    const open = allowAll?.GroupId as string;
    expect(first).toMatchObject({ changed: true, resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/${instanceId}` });
    expect(first.changes).toEqual([
      { field: `networkInterfaces.${primaryEni}.groups`, from: [web], to: [q] },
      { field: `networkInterfaces.${secondaryEni}.groups`, from: [admin, web], to: [q] },
    ]);
    expect(first.undo).toEqual({ instanceId, previousGroups: original, quarantineGroups: { [vpcId]: q } });

    // Every interface ends in the quarantine group alone…
    expect(await groupsOf(ctx, [primaryEni, secondaryEni])).toEqual({ [primaryEni]: [q], [secondaryEni]: [q] });
    // …which has no rules at all (its default outbound rule revoked), and says what it is.
    expect(quarantine).toMatchObject({ IpPermissions: [], IpPermissionsEgress: [] });
    expect(quarantine?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'riposte:managed', Value: 'true' },
        { Key: 'riposte:purpose', Value: 'quarantine' },
      ]),
    );
    // The allow-all group lets all traffic through both ways, IPv4 and IPv6.
    expect(allTrafficFrom(allowAll?.IpPermissions)).toEqual(['0.0.0.0/0', '::/0']);
    expect(allTrafficFrom(allowAll?.IpPermissionsEgress)).toEqual(['0.0.0.0/0', '::/0']);
    expect(allowAll?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'riposte:managed', Value: 'true' },
        { Key: 'riposte:purpose', Value: 'allow-all' },
      ]),
    );
    // Every interface went through allow-all before any reached quarantine, one interface a call.
    expect(modifications).toEqual([
      { NetworkInterfaceId: primaryEni, Groups: [open] },
      { NetworkInterfaceId: secondaryEni, Groups: [open] },
      { NetworkInterfaceId: primaryEni, Groups: [q] },
      { NetworkInterfaceId: secondaryEni, Groups: [q] },
    ]);
    // The previous groups are on the instance, for a responder at the console.
    const tag = await instanceTag(ctx, instanceId, PREVIOUS_GROUPS_TAG);
    expect(tag).toBe(JSON.stringify(original));
    expect(tag?.length).toBeLessThanOrEqual(256);

    expect(await behaviour.verify(ctx, defaults)).toMatchObject({ compliant: true });
    expect(await behaviour.plan(ctx, defaults)).toMatchObject({ compliant: true, changes: [] });

    const second = await behaviour.run(ctx, defaults);
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(second.undo).toBeUndefined();
    expect(modifications).toHaveLength(4);
    expect(await groupsNamed(ctx, vpcId, 'riposte-quarantine')).toHaveLength(1);

    const rolledBack = await behaviour.rollback?.(ctx, first.undo as IsolateUndo);
    expect(rolledBack?.changed).toBe(true);
    expect(await groupsOf(ctx, [primaryEni, secondaryEni])).toEqual(original);
    expect(await instanceTag(ctx, instanceId, PREVIOUS_GROUPS_TAG)).toBeUndefined();
    // The quarantine group stays: other instances may be in it.
    expect(await groupsNamed(ctx, vpcId, 'riposte-quarantine')).toHaveLength(1);
    expect(await behaviour.verify(ctx, defaults)).toMatchObject({ compliant: false });
  });

  it('reuses the VPC’s quarantine and allow-all groups for a second instance', async () => {
    const { ctx, vpcId, subnetId, web, primaryEni, secondaryEni } = await lab();
    await behaviour.run(ctx, defaults);
    const other = await launch(ctx, subnetId, [web]);
    const otherCtx: ActionContext = { ...ctx, resource: { ...ctx.resource, instanceId: other.instanceId } };

    const outcome = await behaviour.run(otherCtx, defaults);

    const quarantines = await groupsNamed(ctx, vpcId, 'riposte-quarantine');
    expect(quarantines).toHaveLength(1);
    expect(await groupsNamed(ctx, vpcId, ALLOW_ALL_GROUP_NAME)).toHaveLength(1);
    const q = quarantines[0]?.GroupId as string;
    expect(outcome.undo?.quarantineGroups).toEqual({ [vpcId]: q });
    expect(await groupsOf(ctx, [primaryEni, secondaryEni, other.primaryEni])).toEqual({ [primaryEni]: [q], [secondaryEni]: [q], [other.primaryEni]: [q] });
    expect((await behaviour.verify(otherCtx, defaults)).compliant).toBe(true);
  });

  it('with allowAllFirst: false goes straight to quarantine and creates no allow-all group', async () => {
    const { ctx, vpcId, web, admin, primaryEni, secondaryEni, modifications } = await lab();
    const direct = isolateInstance.params.parse({ allowAllFirst: false, quarantineGroupName: 'ir-quarantine' });

    const outcome = await behaviour.run(ctx, direct);

    const q = (await groupsNamed(ctx, vpcId, 'ir-quarantine'))[0]?.GroupId as string;
    expect(outcome.changed).toBe(true);
    expect(await groupsNamed(ctx, vpcId, ALLOW_ALL_GROUP_NAME)).toEqual([]);
    expect(modifications).toEqual([
      { NetworkInterfaceId: primaryEni, Groups: [q] },
      { NetworkInterfaceId: secondaryEni, Groups: [q] },
    ]);
    expect(await groupsOf(ctx, [primaryEni, secondaryEni])).toEqual({ [primaryEni]: [q], [secondaryEni]: [q] });
    expect((await behaviour.verify(ctx, direct)).compliant).toBe(true);
    // Verified against the group the step names: the default name's group does not exist.
    expect((await behaviour.verify(ctx, defaults)).compliant).toBe(false);

    await behaviour.rollback?.(ctx, outcome.undo as IsolateUndo);
    expect(await groupsOf(ctx, [primaryEni, secondaryEni])).toEqual({ [primaryEni]: [web], [secondaryEni]: [admin, web] });
  });

  it('revokes rules found on its own quarantine group, but refuses to strip a group it does not manage', async () => {
    const { ctx, vpcId } = await lab();
    const outcome = await behaviour.run(ctx, defaults);
    const q = outcome.undo?.quarantineGroups[vpcId] as string;
    await ec2Of(ctx).send(new AuthorizeSecurityGroupIngressCommand({ GroupId: q, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    expect(await behaviour.verify(ctx, defaults)).toMatchObject({ compliant: false });
    expect((await behaviour.plan(ctx, defaults)).changes).toEqual([{ field: `securityGroups.${q}.rules`, from: 1, to: 0 }]);

    const again = await behaviour.run(ctx, defaults);
    expect(again).toMatchObject({ changed: true, changes: [{ field: `securityGroups.${q}.rules`, from: 1, to: 0 }] });
    expect(again.undo).toBeUndefined();
    expect(await groupsNamed(ctx, vpcId, 'riposte-quarantine')).toMatchObject([{ IpPermissions: [], IpPermissionsEgress: [] }]);
    expect(await behaviour.verify(ctx, defaults)).toMatchObject({ compliant: true });

    // A group someone else made under the requested name, with its default outbound rule.
    const theirs = (await ec2Of(ctx).send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'their-quarantine', Description: 'not Riposte' }))).GroupId as string;
    await expect(behaviour.run(ctx, isolateInstance.params.parse({ quarantineGroupName: 'their-quarantine' }))).rejects.toMatchObject({
      name: 'UnmanagedSecurityGroupError',
      code: 'EC2_SECURITY_GROUP_UNMANAGED',
      context: { account: MEMBER, region: 'us-east-1', resource: theirs },
    });
  });

  it('fails with InstanceNotFoundError, naming account, region and instance, when the instance does not exist', async () => {
    // The fixture's own instance id, which the emulator has never seen.
    const ctx = actionContext(FIXTURE, MEMBER);
    expect(ctx.resource.instanceId).toBe('i-0a1b2c3d4e5f60718');
    const expected = {
      name: 'InstanceNotFoundError',
      code: 'EC2_INSTANCE_NOT_FOUND',
      instanceId: 'i-0a1b2c3d4e5f60718',
      context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/i-0a1b2c3d4e5f60718`, step: 'ec2.isolate' },
    };

    await expect(behaviour.run(ctx, defaults)).rejects.toMatchObject(expected);
    await expect(behaviour.plan(ctx, defaults)).rejects.toMatchObject(expected);
    await expect(behaviour.verify(ctx, defaults)).rejects.toMatchObject(expected);
    await expect(behaviour.run(ctx, defaults)).rejects.toThrow(`EC2 instance i-0a1b2c3d4e5f60718 does not exist in account ${MEMBER}, region us-east-1`);

    const { instanceId: _absent, ...noInstance } = ctx.resource;
    await expect(behaviour.run({ ...ctx, resource: noInstance }, defaults)).rejects.toMatchObject({
      name: 'InstanceNotFoundError',
      instanceId: undefined,
      context: { account: MEMBER, region: 'us-east-1', resource: ctx.resource.id },
    });
  });

  it('keeps the previous-groups tag within 256 characters, leaving a note when the map does not fit', () => {
    const short = { 'eni-0123456789abcdef0': ['sg-0123456789abcdef0'] };
    expect(previousGroupsTagValue(short, 'r-1')).toBe('{"eni-0123456789abcdef0":["sg-0123456789abcdef0"]}');
    const long = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`eni-0123456789abcdef${i}`, ['sg-0123456789abcdef0', 'sg-0123456789abcdef1']]));
    const value = previousGroupsTagValue(long, 'r-1');
    expect(value.length).toBeLessThanOrEqual(256);
    expect(value).toBe('too long for a tag: see the undo of run r-1');
  });

  describe('with IAM enforcement on', () => {
    afterEach(() => setIamEnforcement(false));

    it('runs, verifies and rolls back with exactly its declared member permissions', async () => {
      const clients = await memberRoleWith(MEMBER, isolateInstance.permissions.member);
      const { ctx: setup, web, admin, primaryEni, secondaryEni } = await lab();
      await setIamEnforcement(true);
      const ctx: ActionContext = { ...actionContext(FIXTURE, MEMBER, clients), resource: setup.resource };

      expect((await behaviour.plan(ctx, defaults)).compliant).toBe(false);
      const outcome = await behaviour.run(ctx, defaults);
      expect(outcome.changed).toBe(true);
      expect((await behaviour.verify(ctx, defaults)).compliant).toBe(true);
      await behaviour.rollback?.(ctx, outcome.undo as IsolateUndo);
      expect((await behaviour.verify(ctx, defaults)).compliant).toBe(false);
      await setIamEnforcement(false);
      expect(await groupsOf(setup, [primaryEni, secondaryEni])).toEqual({ [primaryEni]: [web], [secondaryEni]: [admin, web] });
    });
  });
});
