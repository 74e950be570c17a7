import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeNetworkInterfacesCommand,
  DescribePrefixListsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RunInstancesCommand,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  isolateInstance,
  QUARANTINE_GROUP_NAME,
  QUARANTINE_SSM_ENDPOINTS_GROUP_NAME,
  QUARANTINE_SSM_ENDPOINTS_PURPOSE,
  quarantineGroupNameOf,
  type IsolateUndo,
} from '../../src/actions/ec2-isolate.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { memberRoleWith, setIamEnforcement, setMemberRolePermissions } from '../support/least-privilege.js';

const MEMBER = '222222222222';
const REGION = 'us-east-1';
const FIXTURE = 'guardduty-ec2-backdoor.json';
/** An AMI moto 5.2.1 ships (DescribeImages lists it). */
const AMI = 'ami-12c6146b';
const behaviour = isolateInstance.behaviour;
const withEndpoints = isolateInstance.params.parse({ ssmEndpoints: true });
const plain = isolateInstance.params.parse({});
const INTERFACE_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;

const ec2Of = (ctx: ActionContext): EC2Client => ctx.clients.create(EC2Client, ctx.target);

interface LabOptions {
  /** Created, then deleted: DescribeVpcEndpoints still lists it (state `deleted`), and it must not count. */
  readonly deletedEc2messages?: boolean;
  /** The ssm interface endpoint with private DNS off. */
  readonly ssmPrivateDnsOff?: boolean;
  /** The endpoint of this service keeps AWS's default policy (any principal, any action); the others allow only the organization. */
  readonly openPolicyOn?: string;
}

/** An endpoint policy that lets only the organization's principals through (what the README asks of a VPC the quarantine opens to). */
const ORGANIZATION_ONLY = JSON.stringify({
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }],
});

interface Lab {
  readonly ctx: ActionContext;
  readonly vpcId: string;
  readonly web: string;
  readonly instanceId: string;
  readonly eni: string;
  /** Interface endpoint ids by service, and the S3 gateway endpoint's. */
  readonly endpoints: Record<string, string>;
  /** Every EC2 operation the member client sent, in order (the action gets this same cached client). */
  readonly calls: string[];
}

/**
 * In the member account: a VPC with subnets in two zones, interface
 * endpoints for ssm, ssmmessages and ec2messages in both (private DNS on),
 * an S3 gateway endpoint on the main route table, and an instance whose
 * interface is in `web` (HTTPS in from anywhere).
 */
async function lab(options: LabOptions = {}): Promise<Lab> {
  const base = actionContext(FIXTURE, MEMBER);
  const ec2 = ec2Of(base);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc?.VpcId as string;
  const subnets = await Promise.all(
    ['a', 'b'].map(
      async (zone, index) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.40.${index + 1}.0/24`, AvailabilityZone: `${REGION}${zone}` }))).Subnet?.SubnetId as string,
    ),
  );
  const web = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'web', Description: 'web servers' }))).GroupId as string;
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));

  const endpoints: Record<string, string> = {};
  for (const service of INTERFACE_SERVICES) {
    const { VpcEndpoint } = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        ServiceName: `com.amazonaws.${REGION}.${service}`,
        VpcEndpointType: 'Interface',
        SubnetIds: subnets,
        PrivateDnsEnabled: !(service === 'ssm' && options.ssmPrivateDnsOff === true),
        ...(options.openPolicyOn === service ? {} : { PolicyDocument: ORGANIZATION_ONLY }),
      }),
    );
    endpoints[service] = VpcEndpoint?.VpcEndpointId as string;
  }
  if (options.deletedEc2messages === true) await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [endpoints.ec2messages as string] }));
  const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  const { VpcEndpoint: s3 } = await ec2.send(
    new CreateVpcEndpointCommand({
      VpcId: vpcId,
      ServiceName: `com.amazonaws.${REGION}.s3`,
      VpcEndpointType: 'Gateway',
      RouteTableIds: [RouteTables?.[0]?.RouteTableId as string],
      ...(options.openPolicyOn === 's3' ? {} : { PolicyDocument: ORGANIZATION_ONLY }),
    }),
  );
  endpoints.s3 = s3?.VpcEndpointId as string;

  const { Instances } = await ec2.send(
    new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnets[0], Groups: [web] }] }),
  );
  const instance = Instances?.[0];

  const calls: string[] = [];
  ec2.middlewareStack.add(
    (next, handlerContext) => async (args) => {
      calls.push((handlerContext.commandName ?? '').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  const instanceId = instance?.InstanceId as string;
  const ctx: ActionContext = { ...base, resource: { ...base.resource, instanceId } };
  return { ctx, vpcId, web, instanceId, eni: instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string, endpoints, calls };
}

/** Each interface endpoint's network interface addresses, read apart from the action. */
async function endpointAddresses(ctx: ActionContext, lab: Lab): Promise<Record<string, string[]>> {
  const { NetworkInterfaces } = await ec2Of(ctx).send(new DescribeNetworkInterfacesCommand({}));
  const { VpcEndpoints } = await ec2Of(ctx).send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: INTERFACE_SERVICES.map((service) => lab.endpoints[service] as string) }));
  return Object.fromEntries(
    INTERFACE_SERVICES.map((service) => {
      const endpoint = VpcEndpoints?.find((candidate) => candidate.VpcEndpointId === lab.endpoints[service]);
      const ips = (endpoint?.NetworkInterfaceIds ?? []).map((id) => NetworkInterfaces?.find((eni) => eni.NetworkInterfaceId === id)?.PrivateIpAddress as string);
      return [service, ips.sort()];
    }),
  );
}

async function s3PrefixList(ctx: ActionContext): Promise<string> {
  const { PrefixLists } = await ec2Of(ctx).send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${REGION}.s3`] }] }));
  return PrefixLists?.[0]?.PrefixListId as string;
}

async function groupNamed(ctx: ActionContext, vpcId: string, name: string): Promise<SecurityGroup | undefined> {
  const { SecurityGroups } = await ec2Of(ctx).send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  return SecurityGroups?.[0];
}

/** A group's rules one peer each, with their descriptions: `tcp 443-443 10.1.2.3/32 (description)`. */
const rulesIn = (permissions: readonly IpPermission[] | undefined): string[] =>
  (permissions ?? [])
    .flatMap((p) => {
      const ports = `${p.IpProtocol} ${p.FromPort ?? ''}-${p.ToPort ?? ''}`;
      return [
        ...(p.IpRanges ?? []).map((range) => `${ports} ${range.CidrIp} (${range.Description ?? ''})`),
        ...(p.Ipv6Ranges ?? []).map((range) => `${ports} ${range.CidrIpv6} (${range.Description ?? ''})`),
        ...(p.PrefixListIds ?? []).map((list) => `${ports} ${list.PrefixListId} (${list.Description ?? ''})`),
        ...(p.UserIdGroupPairs ?? []).map((pair) => `${ports} ${pair.GroupId} (${pair.Description ?? ''})`),
      ];
    })
    .sort();

/** The egress the quarantine group must have in the lab: 443 to every endpoint interface address and to the S3 prefix list. */
function expectedEgress(lab: Lab, addresses: Record<string, string[]>, prefixList: string): string[] {
  return [
    ...INTERFACE_SERVICES.flatMap((service) => (addresses[service] ?? []).map((ip) => `tcp 443-443 ${ip}/32 (Riposte quarantine: ${service} endpoint ${lab.endpoints[service]})`)),
    `tcp 443-443 ${prefixList} (Riposte quarantine: s3 gateway endpoint ${lab.endpoints.s3})`,
  ].sort();
}

async function interfaceGroups(ctx: ActionContext, eni: string): Promise<string[]> {
  const { NetworkInterfaces } = await ec2Of(ctx).send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }));
  return (NetworkInterfaces?.[0]?.Groups ?? []).map((group) => group.GroupId as string);
}

describe('ec2.isolate with ssmEndpoints against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('names the group by its kind unless the step names one', () => {
    expect(quarantineGroupNameOf(plain)).toBe('riposte-quarantine');
    expect(quarantineGroupNameOf(withEndpoints)).toBe('riposte-quarantine-ssm');
    expect(quarantineGroupNameOf({ quarantineGroupName: 'ir-ssm', ssmEndpoints: true })).toBe('ir-ssm');
    expect(plain).toEqual({ allowAllFirst: true, ssmEndpoints: false });
  });

  it('allows exactly HTTPS out to each endpoint interface address and the S3 prefix list, nothing in; plans it, verifies it, and changes nothing the second time', async () => {
    const setup = await lab();
    const { ctx, vpcId, web, instanceId, eni, calls } = setup;
    const addresses = await endpointAddresses(ctx, setup);
    const prefixList = await s3PrefixList(ctx);
    expect(Object.values(addresses).map((ips) => ips.length)).toEqual([2, 2, 2]);
    expect(prefixList).toMatch(/^pl-/);
    const allows = `quarantine allows egress only to the Systems Manager endpoints of ${vpcId} (${INTERFACE_SERVICES.map((service) => `${service} ${addresses[service]?.join(' ')}`).join(', ')}, s3 ${prefixList})`;
    const wantedKeys = [...INTERFACE_SERVICES.flatMap((service) => (addresses[service] ?? []).map((ip) => `egress tcp 443 ${ip}/32`)), `egress tcp 443 ${prefixList}`].sort();

    const plan = await behaviour.plan(ctx, withEndpoints);
    expect(plan.summary).toBe(`instance ${instanceId}: would move ${eni} [${web}] -> [${QUARANTINE_SSM_ENDPOINTS_GROUP_NAME}] (through riposte-allow-all first); ${allows}`);
    expect(plan.changes).toEqual([
      { field: `networkInterfaces.${eni}.groups`, from: [web], to: [QUARANTINE_SSM_ENDPOINTS_GROUP_NAME] },
      { field: `securityGroups.${vpcId}/${QUARANTINE_SSM_ENDPOINTS_GROUP_NAME}.rules`, from: [], to: wantedKeys },
    ]);
    // plan reads only
    expect(await groupNamed(ctx, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME)).toBeUndefined();

    calls.length = 0;
    const outcome = await behaviour.run(ctx, withEndpoints);
    const runCalls = [...calls];

    const group = await groupNamed(ctx, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME);
    const q = group?.GroupId as string;
    expect(outcome).toMatchObject({ changed: true, undo: { instanceId, previousGroups: { [eni]: [web] }, quarantineGroups: { [vpcId]: q } } });
    expect(outcome.summary).toContain(`; ${allows}`);
    expect(outcome.changes).toEqual([
      { field: `networkInterfaces.${eni}.groups`, from: [web], to: [q] },
      { field: `securityGroups.${q}.rules`, from: [], to: wantedKeys },
    ]);
    // The instance is in the endpoint quarantine alone, which lets nothing in and only HTTPS to the endpoints out…
    expect(await interfaceGroups(ctx, eni)).toEqual([q]);
    expect(group?.IpPermissions).toEqual([]);
    expect(rulesIn(group?.IpPermissionsEgress)).toEqual(expectedEgress(setup, addresses, prefixList));
    // …never to a security group (the endpoints' interfaces are in the VPC's default group).
    expect(group?.IpPermissionsEgress?.flatMap((permission) => permission.UserIdGroupPairs ?? [])).toEqual([]);
    expect(group?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'riposte:managed', Value: 'true' },
        { Key: 'riposte:purpose', Value: QUARANTINE_SSM_ENDPOINTS_PURPOSE },
      ]),
    );
    // The plain quarantine is another group, untouched.
    expect(await groupNamed(ctx, vpcId, QUARANTINE_GROUP_NAME)).toBeUndefined();
    // The calls of the containment path: the endpoints are read once, their interfaces and the prefix list once each.
    // (DescribeSecurityGroups: Riposte's groups of the VPC, and each group read back once created.)
    expect(runCalls.filter((call) => call.startsWith('Describe')).sort()).toEqual([
      'DescribeInstances',
      'DescribeNetworkInterfaces',
      'DescribePrefixLists',
      'DescribeSecurityGroups',
      'DescribeSecurityGroups',
      'DescribeSecurityGroups',
      'DescribeVpcEndpoints',
    ]);
    // Seven rules on the quarantine group (its default outbound rule revoked), and the allow-all group's ::/0 out.
    expect(runCalls.filter((call) => call === 'AuthorizeSecurityGroupEgress')).toHaveLength(7 + 1);
    expect(runCalls.filter((call) => call === 'RevokeSecurityGroupEgress')).toHaveLength(1);

    expect(await behaviour.verify(ctx, withEndpoints)).toEqual({
      compliant: true,
      summary: `instance ${instanceId}: every interface (${eni}) is only in ${QUARANTINE_SSM_ENDPOINTS_GROUP_NAME}; ${allows}`,
    });
    expect(await behaviour.plan(ctx, withEndpoints)).toMatchObject({
      compliant: true,
      changes: [],
      summary: `instance ${instanceId}: already isolated in ${QUARANTINE_SSM_ENDPOINTS_GROUP_NAME}; ${allows}`,
    });

    calls.length = 0;
    const second = await behaviour.run(ctx, withEndpoints);
    expect(second).toMatchObject({ changed: false, changes: [], summary: `instance ${instanceId} already isolated in ${QUARANTINE_SSM_ENDPOINTS_GROUP_NAME}; nothing changed; ${allows}` });
    expect(second.undo).toBeUndefined();
    expect(calls.filter((call) => !call.startsWith('Describe'))).toEqual([]);

    // Release: back to web; the group stays for the other instances in it.
    await behaviour.rollback?.(ctx, outcome.undo as IsolateUndo);
    expect(await interfaceGroups(ctx, eni)).toEqual([web]);
    expect(rulesIn((await groupNamed(ctx, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME))?.IpPermissionsEgress)).toEqual(expectedEgress(setup, addresses, prefixList));
  });

  it('allows nothing when an endpoint is missing, and says which and why', async () => {
    // ec2messages deleted (listed as `deleted`, which the state filter leaves out); ssm without private DNS.
    const { ctx, vpcId, instanceId, eni, endpoints } = await lab({ deletedEc2messages: true, ssmPrivateDnsOff: true });
    const lacks = `quarantine allows no egress in ${vpcId}, which lacks ssm (${endpoints.ssm} has private DNS off), ec2messages (no available endpoint): a collection after isolation cannot reach the instance`;

    const plan = await behaviour.plan(ctx, withEndpoints);
    expect(plan.summary).toMatch(new RegExp(`; ${lacks.replace(/[()]/g, '\\$&')}$`));
    expect(plan.changes).toEqual([{ field: `networkInterfaces.${eni}.groups`, from: expect.any(Array), to: [QUARANTINE_SSM_ENDPOINTS_GROUP_NAME] }]);

    const outcome = await behaviour.run(ctx, withEndpoints);

    expect(outcome.changed).toBe(true);
    expect(outcome.summary.endsWith(`; ${lacks}`)).toBe(true);
    const group = await groupNamed(ctx, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME);
    // No rules at all: its default outbound rule revoked, nothing authorized.
    expect(group).toMatchObject({ IpPermissions: [], IpPermissionsEgress: [] });
    expect(await interfaceGroups(ctx, eni)).toEqual([group?.GroupId]);
    expect(await behaviour.verify(ctx, withEndpoints)).toEqual({
      compliant: true,
      summary: `instance ${instanceId}: every interface (${eni}) is only in ${QUARANTINE_SSM_ENDPOINTS_GROUP_NAME}; ${lacks}`,
    });
  });

  it('names the endpoints whose policy lets any principal through: the quarantine opens to them all the same, and says how far that goes', async () => {
    const { ctx, endpoints } = await lab({ openPolicyOn: 's3' });

    const plan = await behaviour.plan(ctx, withEndpoints);

    expect(plan.summary).toMatch(
      new RegExp(
        `; endpoint policy open to any principal on ${endpoints.s3 as string} \\(credentials on the instance can use an endpoint as far as its policy allows: restrict it, e\\.g\\. to your organization with aws:PrincipalOrgID\\)$`,
      ),
    );
    const outcome = await behaviour.run(ctx, withEndpoints);
    expect(outcome.summary).toContain(`endpoint policy open to any principal on ${endpoints.s3 as string} (`);
    expect(await behaviour.verify(ctx, withEndpoints)).toMatchObject({ compliant: true });
  });

  it('revokes a stray rule on its own group and keeps the wanted ones as they are', async () => {
    const setup = await lab();
    const { ctx, vpcId, calls } = setup;
    const first = await behaviour.run(ctx, withEndpoints);
    const q = first.undo?.quarantineGroups[vpcId] as string;
    const ruleIds = async () =>
      ((await ec2Of(ctx).send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [q] }] }))).SecurityGroupRules ?? []).map((rule) => rule.SecurityGroupRuleId).sort();
    const kept = await ruleIds();
    expect(kept).toHaveLength(7);
    await ec2Of(ctx).send(new AuthorizeSecurityGroupEgressCommand({ GroupId: q, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    await ec2Of(ctx).send(new AuthorizeSecurityGroupIngressCommand({ GroupId: q, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }));
    expect((await behaviour.verify(ctx, withEndpoints)).summary).toMatch(/has rules \[.*egress tcp 443 0\.0\.0\.0\/0.*ingress tcp 22 10\.0\.0\.0\/8\], not \[/);

    const planned = (await behaviour.plan(ctx, withEndpoints)).changes;
    expect(planned).toHaveLength(1);
    expect(planned[0]).toMatchObject({ field: `securityGroups.${q}.rules` });
    expect(planned[0]?.from).toEqual(expect.arrayContaining(['egress tcp 443 0.0.0.0/0', 'ingress tcp 22 10.0.0.0/8']));
    expect(planned[0]?.to).not.toEqual(expect.arrayContaining(['egress tcp 443 0.0.0.0/0']));

    calls.length = 0;
    const again = await behaviour.run(ctx, withEndpoints);

    expect(again).toMatchObject({ changed: true, changes: planned });
    expect(again.undo).toBeUndefined();
    expect(calls.filter((call) => !call.startsWith('Describe')).sort()).toEqual(['RevokeSecurityGroupEgress', 'RevokeSecurityGroupIngress']);
    // The wanted rules are the same rules as before (not revoked and added again).
    expect(await ruleIds()).toEqual(kept);
    const group = await groupNamed(ctx, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME);
    expect(group?.IpPermissions).toEqual([]);
    expect(rulesIn(group?.IpPermissionsEgress)).toEqual(expectedEgress(setup, await endpointAddresses(ctx, setup), await s3PrefixList(ctx)));
    expect((await behaviour.verify(ctx, withEndpoints)).compliant).toBe(true);
  });

  it('fails verification when a wanted rule is revoked behind its back, and the next run puts it back', async () => {
    const setup = await lab();
    const { ctx, vpcId } = setup;
    const prefixList = await s3PrefixList(ctx);
    const q = (await behaviour.run(ctx, withEndpoints)).undo?.quarantineGroups[vpcId] as string;
    await ec2Of(ctx).send(new RevokeSecurityGroupEgressCommand({ GroupId: q, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: prefixList }] }] }));

    const verdict = await behaviour.verify(ctx, withEndpoints);
    expect(verdict.compliant).toBe(false);
    const [, has, wants] = /has rules \[([^\]]*)\], not \[([^\]]*)\]/.exec(verdict.summary) ?? [];
    expect(verdict.summary).toContain(`${q} has rules [`);
    expect(has?.split(', ')).toHaveLength(6);
    expect(has).not.toContain(prefixList);
    expect(wants?.split(', ')).toEqual([...(has?.split(', ') ?? []), `egress tcp 443 ${prefixList}`]);

    const again = await behaviour.run(ctx, withEndpoints);
    expect(again).toMatchObject({ changed: true, changes: [{ field: `securityGroups.${q}.rules`, to: expect.arrayContaining([`egress tcp 443 ${prefixList}`]) }] });
    expect(rulesIn((await groupNamed(ctx, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME))?.IpPermissionsEgress)).toEqual(expectedEgress(setup, await endpointAddresses(ctx, setup), prefixList));
    expect((await behaviour.verify(ctx, withEndpoints)).compliant).toBe(true);
  });

  it('without ssmEndpoints still isolates in riposte-quarantine with no rules, and reads no endpoint', async () => {
    const { ctx, vpcId, eni, calls } = await lab();

    calls.length = 0;
    await behaviour.run(ctx, plain);
    const runCalls = [...calls];

    const group = await groupNamed(ctx, vpcId, QUARANTINE_GROUP_NAME);
    expect(group).toMatchObject({ IpPermissions: [], IpPermissionsEgress: [] });
    expect(group?.Tags).toEqual(expect.arrayContaining([{ Key: 'riposte:purpose', Value: 'quarantine' }]));
    expect(await interfaceGroups(ctx, eni)).toEqual([group?.GroupId]);
    expect(await groupNamed(ctx, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME)).toBeUndefined();
    expect(runCalls).not.toContain('DescribeVpcEndpoints');
    expect(runCalls).not.toContain('DescribePrefixLists');
    // The allow-all group's ::/0 out is the only outbound rule authorized.
    expect(runCalls.filter((call) => call === 'AuthorizeSecurityGroupEgress')).toHaveLength(1);
    expect(await behaviour.verify(ctx, plain)).toMatchObject({ compliant: true, summary: expect.stringMatching(/which has no rules$/) });
  });

  it('refuses a Riposte group of the other kind, and a group it did not make unless its rules are exactly the wanted ones', async () => {
    const setup = await lab();
    const { ctx, vpcId } = setup;
    await behaviour.run(ctx, plain);
    const plainGroup = (await groupNamed(ctx, vpcId, QUARANTINE_GROUP_NAME))?.GroupId as string;

    // The plain quarantine's name with endpoints: its rules would open every instance in it.
    await expect(behaviour.run(ctx, isolateInstance.params.parse({ ssmEndpoints: true, quarantineGroupName: QUARANTINE_GROUP_NAME }))).rejects.toMatchObject({
      name: 'QuarantineGroupPurposeError',
      code: 'EC2_QUARANTINE_GROUP_PURPOSE',
      context: { account: MEMBER, region: REGION, resource: plainGroup, step: 'ec2.isolate' },
    });
    expect(await groupNamed(ctx, vpcId, QUARANTINE_GROUP_NAME)).toMatchObject({ IpPermissions: [], IpPermissionsEgress: [] });

    // Someone else's group under the requested name, with its default outbound rule: refused, unchanged.
    const theirs = (await ec2Of(ctx).send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'their-ssm-quarantine', Description: 'not Riposte' }))).GroupId as string;
    const theirParams = isolateInstance.params.parse({ ssmEndpoints: true, quarantineGroupName: 'their-ssm-quarantine' });
    await expect(behaviour.run(ctx, theirParams)).rejects.toMatchObject({ name: 'UnmanagedSecurityGroupError', context: { resource: theirs } });
    expect(rulesIn((await groupNamed(ctx, vpcId, 'their-ssm-quarantine'))?.IpPermissionsEgress)).toEqual(['-1 - 0.0.0.0/0 ()']);

    // Made exactly as wanted (descriptions aside), it is used as it is.
    const addresses = await endpointAddresses(ctx, setup);
    const prefixList = await s3PrefixList(ctx);
    await ec2Of(ctx).send(new RevokeSecurityGroupEgressCommand({ GroupId: theirs, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    await ec2Of(ctx).send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: theirs,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: Object.values(addresses).flatMap((ips) => ips.map((ip) => ({ CidrIp: `${ip}/32` }))),
            PrefixListIds: [{ PrefixListId: prefixList }],
          },
        ],
      }),
    );
    const outcome = await behaviour.run(ctx, theirParams);
    expect(outcome).toMatchObject({ changed: true, undo: { quarantineGroups: { [vpcId]: theirs } } });
    expect(outcome.changes.filter((change) => change.field.startsWith('securityGroups.'))).toEqual([]);
    expect((await behaviour.verify(ctx, theirParams)).compliant).toBe(true);
  });

  describe('with IAM enforcement on', () => {
    afterEach(() => setIamEnforcement(false));

    it('plans, runs and verifies with exactly its declared member permissions', async () => {
      const clients = await memberRoleWith(MEMBER, isolateInstance.permissions.member);
      const { ctx: setup, vpcId } = await lab();
      await setIamEnforcement(true);
      const ctx: ActionContext = { ...actionContext(FIXTURE, MEMBER, clients), resource: setup.resource };

      expect((await behaviour.plan(ctx, withEndpoints)).summary).toContain(`quarantine allows egress only to the Systems Manager endpoints of ${vpcId}`);
      expect((await behaviour.run(ctx, withEndpoints)).changed).toBe(true);
      expect((await behaviour.verify(ctx, withEndpoints)).compliant).toBe(true);
      await setIamEnforcement(false);
      expect(rulesIn((await groupNamed(setup, vpcId, QUARANTINE_SSM_ENDPOINTS_GROUP_NAME))?.IpPermissionsEgress)).toHaveLength(7);

      // Each read the endpoints need is one the role must grant: without it the step fails, it does not quarantine with nothing allowed.
      for (const permission of ['ec2:DescribeVpcEndpoints', 'ec2:DescribePrefixLists']) {
        expect(isolateInstance.permissions.member).toContain(permission);
        await setMemberRolePermissions(
          MEMBER,
          isolateInstance.permissions.member.filter((candidate) => candidate !== permission),
        );
        await setIamEnforcement(true);
        await expect(behaviour.plan(ctx, withEndpoints)).rejects.toMatchObject({ name: 'AccessDenied' });
        await setIamEnforcement(false);
      }
    });
  });
});
