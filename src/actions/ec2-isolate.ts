import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  paginateDescribeNetworkInterfaces,
  paginateDescribePrefixLists,
  paginateDescribeVpcEndpoints,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type Instance,
  type IpPermission,
  type SecurityGroup,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { describeInstance, instanceIdOf } from './ec2-instance.js';
import { InstanceNotFoundError, isEc2Error, QuarantineGroupPurposeError, UnmanagedSecurityGroupError } from './errors.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

const ACTION = 'ec2.isolate';

/** Tag on the instance: compact JSON `{eniId:[sg…]}` of the groups before isolation. */
export const PREVIOUS_GROUPS_TAG = 'riposte:previous-groups';
/** Tags on the security groups Riposte creates (and alone may change). */
export const MANAGED_TAG = 'riposte:managed';
/** What a Riposte group is for: its rules follow from it (see {@link QUARANTINE_PURPOSE}, {@link QUARANTINE_SSM_ENDPOINTS_PURPOSE}). */
export const PURPOSE_TAG = 'riposte:purpose';
/** The per-VPC group every interface passes through first, so its tracked flows become untracked. */
export const ALLOW_ALL_GROUP_NAME = 'riposte-allow-all';
/** {@link PURPOSE_TAG} of a quarantine group with no rules at all. */
export const QUARANTINE_PURPOSE = 'quarantine';
/** {@link PURPOSE_TAG} of a quarantine group whose only rules are egress to its VPC's Systems Manager endpoints. */
export const QUARANTINE_SSM_ENDPOINTS_PURPOSE = 'quarantine-ssm-endpoints';
/** The quarantine group's name when the step names none: one name per purpose, so the two kinds never share a group. */
export const QUARANTINE_GROUP_NAME = 'riposte-quarantine';
export const QUARANTINE_SSM_ENDPOINTS_GROUP_NAME = 'riposte-quarantine-ssm';
/** EC2 tag values are at most 256 Unicode characters. */
const TAG_VALUE_LIMIT = 256;

const described = (description: string) => z.meta({ description });

const params = z.strictObject({
  /** Move interfaces to an allow-all group first, so tracked connections are cut. */
  allowAllFirst: z._default(z.boolean(), true),
  quarantineGroupName: z
    .optional(
      z.string().check(
        z.regex(/^[\w .:/()#,@[\]+=&;{}!$*-]{1,255}$/, 'must be a valid security group name'),
        z.refine((name) => !name.toLowerCase().startsWith('sg-'), 'must not start with sg-'),
      ),
    )
    .check(
      described(
        `Name of the quarantine security group created in each VPC of the instance; must not start with \`sg-\`. Absent: \`${QUARANTINE_GROUP_NAME}\` (no rules), or \`${QUARANTINE_SSM_ENDPOINTS_GROUP_NAME}\` with \`ssmEndpoints\`. A Riposte group of the other kind under this name is refused`,
      ),
    ),
  ssmEndpoints: z
    ._default(z.boolean(), false)
    .check(
      described(
        'Let the quarantine group allow egress (TCP 443) to the VPC’s Systems Manager interface endpoints only (`ssm`, `ssmmessages`, `ec2messages`, and S3 through its gateway or interface endpoint), so a collection can still reach the instance after isolation; only when all four exist, otherwise the group has no rules and the plan says what is missing',
      ),
    ),
});
type Params = z.output<typeof params>;

/** The quarantine group a step's parameters name: its own name, or the default of its kind. */
export function quarantineGroupNameOf(wanted: { readonly quarantineGroupName?: string | undefined; readonly ssmEndpoints?: boolean | undefined }): string {
  return wanted.quarantineGroupName ?? (wanted.ssmEndpoints === true ? QUARANTINE_SSM_ENDPOINTS_GROUP_NAME : QUARANTINE_GROUP_NAME);
}

/** The {@link PURPOSE_TAG} of the quarantine group a step's parameters ask for. */
export const quarantinePurposeOf = (wanted: { readonly ssmEndpoints?: boolean | undefined }): string => (wanted.ssmEndpoints === true ? QUARANTINE_SSM_ENDPOINTS_PURPOSE : QUARANTINE_PURPOSE);

/** What isolation replaced: each interface's security groups before the run. */
export interface IsolateUndo {
  readonly instanceId: string;
  /** Network interface id to its group ids before isolation. */
  readonly previousGroups: Readonly<Record<string, readonly string[]>>;
  /** VPC id to the quarantine group applied there (left in place by rollback: other instances may use it). */
  readonly quarantineGroups: Readonly<Record<string, string>>;
}

interface InterfaceState {
  readonly id: string;
  readonly vpcId: string;
  readonly groups: readonly string[];
}

interface GroupState {
  readonly id: string;
  readonly name: string;
  readonly vpcId: string;
  readonly managed: boolean;
  /** Its {@link PURPOSE_TAG}, when it has one. */
  readonly purpose: string | undefined;
  readonly ingress: readonly IpPermission[];
  readonly egress: readonly IpPermission[];
}

const ec2 = (context: ActionContext): EC2Client => context.clients.create(EC2Client, context.target);
const sameGroups = (groups: readonly string[], wanted: readonly string[]): boolean => groups.length === wanted.length && groups.every((group, index) => group === wanted[index]);
const show = (groups: readonly string[]): string => `[${groups.join(', ')}]`;

async function describeInterfaces(context: ActionContext, filters: Filter[]): Promise<InterfaceState[]> {
  const found: (InterfaceState & { readonly deviceIndex: number })[] = [];
  for await (const page of paginateDescribeNetworkInterfaces({ client: ec2(context) }, { Filters: filters })) {
    for (const eni of page.NetworkInterfaces ?? []) {
      if (eni.NetworkInterfaceId === undefined) continue;
      found.push({
        id: eni.NetworkInterfaceId,
        vpcId: eni.VpcId ?? '',
        groups: (eni.Groups ?? []).flatMap((group) => (group.GroupId === undefined ? [] : [group.GroupId])),
        deviceIndex: eni.Attachment?.DeviceIndex ?? Number.MAX_SAFE_INTEGER,
      });
    }
  }
  return found.sort((a, b) => a.deviceIndex - b.deviceIndex || a.id.localeCompare(b.id)).map(({ id, vpcId, groups }) => ({ id, vpcId, groups }));
}

/** Every interface attached to the instance, primary first, as DescribeInstances answers (the instance read the run shares). */
function interfacesIn(instance: Instance): InterfaceState[] {
  return (instance.NetworkInterfaces ?? [])
    .flatMap((eni) =>
      eni.NetworkInterfaceId === undefined
        ? []
        : [
            {
              id: eni.NetworkInterfaceId,
              vpcId: eni.VpcId ?? instance.VpcId ?? '',
              groups: (eni.Groups ?? []).flatMap((group) => (group.GroupId === undefined ? [] : [group.GroupId])),
              deviceIndex: eni.Attachment?.DeviceIndex ?? Number.MAX_SAFE_INTEGER,
            },
          ],
    )
    .sort((a, b) => a.deviceIndex - b.deviceIndex || a.id.localeCompare(b.id))
    .map(({ id, vpcId, groups }) => ({ id, vpcId, groups }));
}

const vpcsOf = (interfaces: readonly InterfaceState[]): string[] => [...new Set(interfaces.map((eni) => eni.vpcId))];

function groupState(group: SecurityGroup): GroupState {
  return {
    id: group.GroupId ?? '',
    name: group.GroupName ?? '',
    vpcId: group.VpcId ?? '',
    managed: (group.Tags ?? []).some((tag) => tag.Key === MANAGED_TAG && tag.Value === 'true'),
    purpose: group.Tags?.find((tag) => tag.Key === PURPOSE_TAG)?.Value,
    ingress: group.IpPermissions ?? [],
    egress: group.IpPermissionsEgress ?? [],
  };
}

async function findGroup(context: ActionContext, vpcId: string, name: string): Promise<GroupState | undefined> {
  const { SecurityGroups } = await ec2(context).send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  const group = SecurityGroups?.find((candidate) => candidate.GroupName === name && candidate.VpcId === vpcId);
  return group === undefined ? undefined : groupState(group);
}

/** Riposte's groups of each VPC by name, where they exist. */
type RiposteGroups = ReadonlyMap<string, ReadonlyMap<string, GroupState>>;

/**
 * The quarantine and allow-all groups of every VPC the instance is in, in
 * one read (the plan and the run ask the same question, so a run's read is
 * the plan's until the run changes something). Reads only.
 */
async function riposteGroups(context: ActionContext, vpcIds: readonly string[], quarantineName: string): Promise<RiposteGroups> {
  const groups = new Map<string, Map<string, GroupState>>();
  if (vpcIds.length === 0) return groups;
  const names = [quarantineName, ALLOW_ALL_GROUP_NAME];
  const { SecurityGroups } = await ec2(context).send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [...vpcIds].sort() },
        { Name: 'group-name', Values: names },
      ],
    }),
  );
  for (const group of SecurityGroups ?? []) {
    if (group.VpcId === undefined || group.GroupName === undefined || !vpcIds.includes(group.VpcId) || !names.includes(group.GroupName)) continue;
    const byName = groups.get(group.VpcId) ?? new Map<string, GroupState>();
    byName.set(group.GroupName, groupState(group));
    groups.set(group.VpcId, byName);
  }
  return groups;
}

/** The group named `name` of each VPC that has one. */
const named = (groups: RiposteGroups, name: string): Map<string, GroupState> =>
  new Map(
    [...groups].flatMap(([vpcId, byName]): Array<[string, GroupState]> => {
      const group = byName.get(name);
      return group === undefined ? [] : [[vpcId, group]];
    }),
  );

const ruleCount = (group: GroupState): number => group.ingress.length + group.egress.length;

/** A described permission as Authorize/Revoke take it (no empty lists). */
function asRequest(permission: IpPermission): IpPermission {
  return {
    IpProtocol: permission.IpProtocol,
    ...(permission.FromPort === undefined ? {} : { FromPort: permission.FromPort }),
    ...(permission.ToPort === undefined ? {} : { ToPort: permission.ToPort }),
    ...(permission.IpRanges?.length ? { IpRanges: permission.IpRanges } : {}),
    ...(permission.Ipv6Ranges?.length ? { Ipv6Ranges: permission.Ipv6Ranges } : {}),
    ...(permission.PrefixListIds?.length ? { PrefixListIds: permission.PrefixListIds } : {}),
    ...(permission.UserIdGroupPairs?.length ? { UserIdGroupPairs: permission.UserIdGroupPairs } : {}),
  };
}

function groupTags(purpose: string): { ResourceType: 'security-group'; Tags: { Key: string; Value: string }[] } {
  return {
    ResourceType: 'security-group',
    Tags: [
      { Key: MANAGED_TAG, Value: 'true' },
      { Key: PURPOSE_TAG, Value: purpose },
    ],
  };
}

/** Creates a Riposte-managed group; when another run created it first, uses that one. */
async function createGroup(context: ActionContext, vpcId: string, name: string, purpose: string, description: string): Promise<GroupState> {
  try {
    await ec2(context).send(new CreateSecurityGroupCommand({ GroupName: name, Description: description, VpcId: vpcId, TagSpecifications: [groupTags(purpose)] }));
  } catch (error) {
    if (!isEc2Error(error, ['InvalidGroup.Duplicate'])) throw error;
  }
  const group = await findGroup(context, vpcId, name);
  if (group === undefined) throw new Error(`${ACTION}: security group "${name}" in ${vpcId} was created but cannot be read back`);
  return group;
}

// ---- the rules a quarantine group has, and should have ----------------------------------

/** One rule as EC2 tells rules apart: direction, protocol, ports and one peer (its description is not part of it). */
interface Rule {
  /** `egress tcp 443 10.0.1.5/32`: how plans and summaries show it, and what tells two rules apart. */
  readonly key: string;
  readonly direction: 'ingress' | 'egress';
  /** The rule alone, as Authorize/Revoke take it. */
  readonly permission: IpPermission;
}

const portsOf = (permission: IpPermission): string =>
  permission.IpProtocol === '-1'
    ? 'all'
    : permission.FromPort === permission.ToPort
      ? `${permission.IpProtocol} ${permission.FromPort}`
      : `${permission.IpProtocol} ${permission.FromPort}-${permission.ToPort}`;

/** The rules in described permissions, one a peer (a permission may hold several ranges, prefix lists and groups). */
function rulesIn(direction: Rule['direction'], permissions: readonly IpPermission[]): Rule[] {
  return permissions.flatMap((permission) => {
    const base: IpPermission = {
      IpProtocol: permission.IpProtocol,
      ...(permission.FromPort === undefined ? {} : { FromPort: permission.FromPort }),
      ...(permission.ToPort === undefined ? {} : { ToPort: permission.ToPort }),
    };
    const rule = (peer: string, only: IpPermission): Rule => ({ key: `${direction} ${portsOf(permission)} ${peer}`, direction, permission: { ...base, ...only } });
    return [
      ...(permission.IpRanges ?? []).map((range) => rule(range.CidrIp ?? '', { IpRanges: [range] })),
      ...(permission.Ipv6Ranges ?? []).map((range) => rule(range.CidrIpv6 ?? '', { Ipv6Ranges: [range] })),
      ...(permission.PrefixListIds ?? []).map((list) => rule(list.PrefixListId ?? '', { PrefixListIds: [list] })),
      ...(permission.UserIdGroupPairs ?? []).map((pair) => rule(pair.GroupId ?? pair.GroupName ?? '', { UserIdGroupPairs: [pair] })),
    ];
  });
}

const rulesOf = (group: GroupState): Rule[] => [...rulesIn('ingress', group.ingress), ...rulesIn('egress', group.egress)];
const keysOf = (rules: readonly Rule[]): string[] => [...new Set(rules.map((rule) => rule.key))].sort();
const sameRules = (a: readonly Rule[], b: readonly Rule[]): boolean => {
  const [left, right] = [keysOf(a), keysOf(b)];
  return left.length === right.length && left.every((key, index) => key === right[index]);
};

/** HTTPS out: the only traffic a quarantine group with Systems Manager endpoints allows. */
const httpsTo = (peer: string, only: IpPermission): Rule => ({ key: `egress tcp 443 ${peer}`, direction: 'egress', permission: { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, ...only } });

// ---- the VPC's Systems Manager endpoints -------------------------------------------------

/**
 * What Run Command needs to reach an instance with no other way out (Systems
 * Manager User Guide, "Improve the security of EC2 instances by using VPC
 * endpoints for Systems Manager"): the agent's services `ssm`,
 * `ssmmessages` and `ec2messages` over HTTPS, and S3, where the agent writes
 * Run Command's S3 output.
 */
const ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages', 's3'] as const;
type EndpointService = (typeof ENDPOINT_SERVICES)[number];

/** One way out of the quarantine to one service: an interface endpoint's addresses, or S3's gateway endpoint through the Region's S3 prefix list. */
export type EndpointPath =
  { readonly service: EndpointService; readonly endpointId: string; readonly addresses: readonly string[] } | { readonly service: 's3'; readonly endpointId: string; readonly prefixListId: string };

/** A VPC's Systems Manager endpoints, as the quarantine group may reach them. */
export interface SsmEndpoints {
  readonly vpcId: string;
  readonly paths: readonly EndpointPath[];
  /** Each service with no way to it, and why (`ec2messages (no available endpoint)`); empty when all four can be reached. */
  readonly missing: readonly string[];
  /** The endpoints the quarantine would reach whose policy lets any principal do anything (the default): the quarantine's egress is as narrow as these policies. */
  readonly openPolicies: readonly string[];
}

/**
 * Whether an endpoint policy lets any principal use the endpoint for
 * anything, unconditionally: AWS's default ("Full access"), or any Allow
 * statement to `*` without a condition. Absent or unreadable: the default.
 * Endpoint policies are the only limit on what credentials on the
 * quarantined instance can do through the endpoints its quarantine allows
 * (VPC User Guide, "Control access to VPC endpoints using endpoint
 * policies"); Riposte reports them, and never changes them.
 */
export function allowsAnyone(policyDocument: string | undefined): boolean {
  if (policyDocument === undefined || policyDocument.trim() === '') return true;
  let policy: unknown;
  try {
    policy = JSON.parse(policyDocument);
  } catch {
    return true;
  }
  const statements = (policy as { Statement?: unknown }).Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  const anyone = (principal: unknown): boolean => principal === '*' || (typeof principal === 'object' && principal !== null && [(principal as { AWS?: unknown }).AWS].flat().includes('*'));
  return list.some(
    (statement) =>
      typeof statement === 'object' &&
      statement !== null &&
      (statement as { Effect?: unknown }).Effect === 'Allow' &&
      anyone((statement as { Principal?: unknown }).Principal) &&
      (statement as { Condition?: unknown }).Condition === undefined,
  );
}

/**
 * The endpoint service names of the Region, to their service. AWS names
 * them `com.amazonaws.<region>.<service>`; in the China Regions some
 * services' names start `cn.com.amazonaws.`, so both are asked for there.
 */
function endpointServiceNames(region: string): Map<string, EndpointService> {
  const prefixes = region.startsWith('cn-') ? ['com.amazonaws', 'cn.com.amazonaws'] : ['com.amazonaws'];
  return new Map(prefixes.flatMap((prefix) => ENDPOINT_SERVICES.map((service): [string, EndpointService] => [`${prefix}.${region}.${service}`, service])));
}

const isInterface = (endpoint: VpcEndpoint): boolean => endpoint.VpcEndpointType?.toLowerCase() === 'interface';
const isGateway = (endpoint: VpcEndpoint): boolean => endpoint.VpcEndpointType?.toLowerCase() === 'gateway';

/**
 * The primary private IPv4 address of every VPC endpoint network interface
 * in the VPCs (an interface endpoint has one in each of its subnets), by
 * interface id: read beside the endpoints themselves rather than after
 * them, so the plan takes one round trip, not two.
 */
async function endpointAddressesIn(context: ActionContext, vpcIds: readonly string[]): Promise<Map<string, string>> {
  const addresses = new Map<string, string>();
  const filters = [
    { Name: 'vpc-id', Values: [...vpcIds].sort() },
    { Name: 'interface-type', Values: ['vpc_endpoint'] },
  ];
  for await (const page of paginateDescribeNetworkInterfaces({ client: ec2(context) }, { Filters: filters })) {
    for (const eni of page.NetworkInterfaces ?? []) {
      if (eni.NetworkInterfaceId !== undefined && eni.PrivateIpAddress !== undefined) addresses.set(eni.NetworkInterfaceId, eni.PrivateIpAddress);
    }
  }
  return addresses;
}

/**
 * The Region's S3 prefix list, the destination a security group rule names
 * to reach S3 through a gateway endpoint (VPC User Guide, gateway endpoints,
 * "Control access": `describe-prefix-lists` filtered by
 * `prefix-list-name=com.amazonaws.<region>.s3`). DescribeVpcEndpoints does
 * not give it.
 */
async function s3PrefixListOf(context: ActionContext): Promise<string | undefined> {
  const names = [...endpointServiceNames(context.target.region)].flatMap(([name, service]) => (service === 's3' ? [name] : []));
  for await (const page of paginateDescribePrefixLists({ client: ec2(context) }, { Filters: [{ Name: 'prefix-list-name', Values: names }] })) {
    const found = page.PrefixLists?.find((list) => list.PrefixListName !== undefined && names.includes(list.PrefixListName) && list.PrefixListId !== undefined);
    if (found !== undefined) return found.PrefixListId;
  }
  return undefined;
}

/**
 * The Systems Manager endpoints of each VPC, read live in one round trip:
 * the available endpoints of the four services (one DescribeVpcEndpoints
 * for every VPC), the addresses of every VPC endpoint network interface in
 * those VPCs, and the Region's S3 prefix list, at once. An interface
 * endpoint counts only with private DNS on: the agent
 * calls the services' regional names, which resolve to the endpoint only
 * then (otherwise to public addresses the quarantine does not allow).
 * Reads only.
 */
async function ssmEndpointsOf(context: ActionContext, vpcIds: readonly string[]): Promise<ReadonlyMap<string, SsmEndpoints>> {
  const names = endpointServiceNames(context.target.region);
  // The endpoints, every endpoint interface's address and S3's prefix list, all at once (the list is read even when no gateway endpoint needs it: one call, no extra round trip).
  const [endpoints, addresses, prefixListId] = await Promise.all([listEndpoints(context, vpcIds, names), endpointAddressesIn(context, vpcIds), s3PrefixListOf(context)]);
  return endpointsByVpc(vpcIds, names, endpoints, addresses, prefixListId);
}

/** The available endpoints of the four services in the VPCs, in id order. */
async function listEndpoints(context: ActionContext, vpcIds: readonly string[], names: ReadonlyMap<string, EndpointService>): Promise<VpcEndpoint[]> {
  const endpoints: VpcEndpoint[] = [];
  for await (const page of paginateDescribeVpcEndpoints(
    { client: ec2(context) },
    {
      Filters: [
        { Name: 'vpc-id', Values: [...vpcIds].sort() },
        { Name: 'vpc-endpoint-state', Values: ['available'] },
        { Name: 'service-name', Values: [...names.keys()] },
      ],
    },
  )) {
    endpoints.push(
      ...(page.VpcEndpoints ?? []).filter(
        (endpoint) => endpoint.VpcId !== undefined && vpcIds.includes(endpoint.VpcId) && endpoint.State?.toLowerCase() === 'available' && names.has(endpoint.ServiceName ?? ''),
      ),
    );
  }
  return endpoints.sort((a, b) => (a.VpcEndpointId ?? '').localeCompare(b.VpcEndpointId ?? ''));
}

/** Each VPC's ways out to the four services, from what was read. */
function endpointsByVpc(
  vpcIds: readonly string[],
  names: ReadonlyMap<string, EndpointService>,
  endpoints: readonly VpcEndpoint[],
  addresses: ReadonlyMap<string, string>,
  prefixListId: string | undefined,
): ReadonlyMap<string, SsmEndpoints> {
  return new Map(
    vpcIds.map((vpcId): [string, SsmEndpoints] => {
      const paths: EndpointPath[] = [];
      const why = new Map<EndpointService, string[]>();
      const note = (service: EndpointService, reason: string) => why.set(service, [...(why.get(service) ?? []), reason]);
      for (const endpoint of endpoints.filter((candidate) => candidate.VpcId === vpcId)) {
        const service = names.get(endpoint.ServiceName ?? '') as EndpointService;
        const endpointId = endpoint.VpcEndpointId ?? '';
        if (isGateway(endpoint) && service === 's3') {
          if (prefixListId === undefined) note(service, `${endpointId}: no S3 prefix list in the Region`);
          else paths.push({ service, endpointId, prefixListId });
        } else if (isInterface(endpoint)) {
          const found = [...new Set((endpoint.NetworkInterfaceIds ?? []).flatMap((eni) => addresses.get(eni) ?? []))].sort();
          if (endpoint.PrivateDnsEnabled !== true) note(service, `${endpointId} has private DNS off`);
          else if (found.length === 0) note(service, `${endpointId} has no network interface`);
          else paths.push({ service, endpointId, addresses: found });
        }
      }
      const missing = ENDPOINT_SERVICES.filter((service) => !paths.some((path) => path.service === service)).map(
        (service) => `${service} (${(why.get(service) ?? ['no available endpoint']).join('; ')})`,
      );
      const reached = new Set(paths.map((path) => path.endpointId));
      const openPolicies = endpoints.filter((endpoint) => reached.has(endpoint.VpcEndpointId ?? '') && allowsAnyone(endpoint.PolicyDocument)).map((endpoint) => endpoint.VpcEndpointId as string);
      return [vpcId, { vpcId, paths, missing, openPolicies }];
    }),
  );
}

/**
 * The rules a quarantine group of the VPC should have: none, unless every
 * Systems Manager service can be reached; then TCP 443 out to each interface
 * endpoint's network interface address (a /32: never to the endpoints'
 * security groups, which are often the VPC's default group, so that a rule
 * naming them would let the instance reach every member of it), and to the
 * S3 prefix list when S3 is reached through its gateway endpoint. Never
 * inbound. No rule for DNS: security groups do not filter traffic to and
 * from the Amazon DNS server (VPC User Guide, "Security group rules": "Security
 * groups do not filter traffic destined to and from the following: Amazon
 * Domain Name Services (DNS) …").
 */
function wantedRulesOf(endpoints: SsmEndpoints | undefined): Rule[] {
  if (endpoints === undefined || endpoints.missing.length > 0) return [];
  const rules = endpoints.paths.flatMap((path) =>
    'addresses' in path
      ? path.addresses.map((address) => httpsTo(`${address}/32`, { IpRanges: [{ CidrIp: `${address}/32`, Description: `Riposte quarantine: ${path.service} endpoint ${path.endpointId}` }] }))
      : [httpsTo(path.prefixListId, { PrefixListIds: [{ PrefixListId: path.prefixListId, Description: `Riposte quarantine: s3 gateway endpoint ${path.endpointId}` }] })],
  );
  return rules.filter((rule, index) => rules.findIndex((other) => other.key === rule.key) === index);
}

/** What the quarantine allows in each VPC, and, where it allows nothing, what is missing. */
function egressNotes(vpcIds: readonly string[], endpoints: ReadonlyMap<string, SsmEndpoints>): string {
  return vpcIds
    .map((vpcId) => {
      const found = endpoints.get(vpcId);
      if (found === undefined || found.missing.length > 0) {
        return `quarantine allows no egress in ${vpcId}, which lacks ${found?.missing.join(', ') ?? 'every Systems Manager endpoint'}: a collection after isolation cannot reach the instance`;
      }
      const ways = ENDPOINT_SERVICES.map(
        (service) =>
          `${service} ${found.paths
            .filter((path) => path.service === service)
            .flatMap((path) => ('addresses' in path ? path.addresses : [path.prefixListId]))
            .join(' ')}`,
      );
      const open =
        found.openPolicies.length === 0
          ? ''
          : `; endpoint policy open to any principal on ${found.openPolicies.join(', ')} (credentials on the instance can use an endpoint as far as its policy allows: restrict it, e.g. to your organization with aws:PrincipalOrgID)`;
      return `quarantine allows egress only to the Systems Manager endpoints of ${vpcId} (${ways.join(', ')})${open}`;
    })
    .join('; ');
}

/**
 * Refuses a quarantine group the step must not change: one Riposte made for
 * the other purpose (groups made before there were two purposes had no rules:
 * without the tag a Riposte group is a plain quarantine), or one Riposte did
 * not make whose rules are not already exactly those wanted.
 */
function refuseForeign(context: ActionContext, group: GroupState, purpose: string, wanted: readonly Rule[]): void {
  if (group.managed) {
    const found = group.purpose ?? QUARANTINE_PURPOSE;
    if (found !== purpose) throw new QuarantineGroupPurposeError(ACTION, context, group, found, purpose);
    return;
  }
  if (purpose === QUARANTINE_PURPOSE ? ruleCount(group) > 0 : !sameRules(rulesOf(group), wanted)) {
    throw new UnmanagedSecurityGroupError(
      ACTION,
      context,
      group,
      MANAGED_TAG,
      purpose === QUARANTINE_PURPOSE
        ? `has ${group.ingress.length} inbound and ${group.egress.length} outbound rules`
        : `has rules [${keysOf(rulesOf(group)).join(', ')}], not [${keysOf(wanted).join(', ')}]`,
    );
  }
}

/**
 * Makes the group's rules exactly `wanted`: the others are revoked (a
 * direction losing every rule, in one call with the rules as described), the
 * missing ones authorized, one rule a call (a call naming a rule that exists
 * fails as a whole, and another run may have just added it), all at once.
 */
async function setRules(context: ActionContext, group: GroupState, wanted: readonly Rule[]): Promise<void> {
  const current = rulesOf(group);
  const wantedKeys = new Set(wanted.map((rule) => rule.key));
  const currentKeys = new Set(current.map((rule) => rule.key));
  const revoke = (direction: Rule['direction'], described: readonly IpPermission[]) => {
    const stray = current.filter((rule) => rule.direction === direction && !wantedKeys.has(rule.key));
    if (stray.length === 0) return [];
    const IpPermissions = stray.length === rulesIn(direction, described).length ? described.map(asRequest) : stray.map((rule) => rule.permission);
    return [
      direction === 'ingress'
        ? ec2(context).send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions }))
        : ec2(context).send(new RevokeSecurityGroupEgressCommand({ GroupId: group.id, IpPermissions })),
    ];
  };
  const authorize = (rule: Rule) =>
    ec2(context)
      .send(new AuthorizeSecurityGroupEgressCommand({ GroupId: group.id, IpPermissions: [rule.permission] }))
      .catch((error: unknown) => {
        if (!isEc2Error(error, ['InvalidPermission.Duplicate'])) throw error;
      });
  await Promise.all([...revoke('ingress', group.ingress), ...revoke('egress', group.egress), ...wanted.filter((rule) => !currentKeys.has(rule.key)).map(authorize)]);
}

/**
 * The change to a quarantine group's rules, when there is one: a plain
 * quarantine's as the count of rules revoked; an endpoint quarantine's as
 * its rules before and after. A group about to be created starts with none
 * (its default outbound rule goes before any interface moves in).
 */
function rulesChangeOf(purpose: string, where: string, before: GroupState | undefined, wanted: readonly Rule[]): PlannedChange | undefined {
  if (purpose === QUARANTINE_PURPOSE) return before !== undefined && ruleCount(before) > 0 ? rulesChange(before) : undefined;
  const current = before === undefined ? [] : rulesOf(before);
  return sameRules(current, wanted) ? undefined : { field: `securityGroups.${where}.rules`, from: keysOf(current), to: keysOf(wanted) };
}

const ANYWHERE = [
  { family: 'IpRanges', cidr: '0.0.0.0/0' },
  { family: 'Ipv6Ranges', cidr: '::/0' },
] as const;

/** Whether `permissions` hold an all-traffic rule for `cidr`. */
function allowsAll(permissions: readonly IpPermission[], range: (typeof ANYWHERE)[number]): boolean {
  return permissions.some(
    (permission) =>
      permission.IpProtocol === '-1' &&
      (range.family === 'IpRanges' ? (permission.IpRanges ?? []).some((r) => r.CidrIp === range.cidr) : (permission.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === range.cidr)),
  );
}

function allTraffic(range: (typeof ANYWHERE)[number]): IpPermission {
  return range.family === 'IpRanges' ? { IpProtocol: '-1', IpRanges: [{ CidrIp: range.cidr }] } : { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: range.cidr }] };
}

/** The VPC's allow-all group (all traffic, 0.0.0.0/0 and ::/0, both directions), created or completed. */
async function ensureAllowAllGroup(context: ActionContext, vpcId: string, existing: GroupState | undefined): Promise<GroupState> {
  const missingOn = (group: GroupState) => ({
    ingress: ANYWHERE.filter((range) => !allowsAll(group.ingress, range)),
    egress: ANYWHERE.filter((range) => !allowsAll(group.egress, range)),
  });
  if (existing !== undefined && !existing.managed) {
    const missing = missingOn(existing);
    if (missing.ingress.length + missing.egress.length > 0) throw new UnmanagedSecurityGroupError(ACTION, context, existing, MANAGED_TAG, 'does not allow all traffic in both directions');
  }
  const group = existing ?? (await createGroup(context, vpcId, ALLOW_ALL_GROUP_NAME, 'allow-all', 'Riposte: all traffic both ways, so tracked connections become untracked before quarantine'));
  const missing = missingOn(group);
  // One rule a call: a call naming a rule that exists fails as a whole (InvalidPermission.Duplicate). Each rule is its own call, so they go at once.
  await Promise.all([
    ...missing.ingress.map((range) => ec2(context).send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [allTraffic(range)] }))),
    ...missing.egress.map((range) => ec2(context).send(new AuthorizeSecurityGroupEgressCommand({ GroupId: group.id, IpPermissions: [allTraffic(range)] }))),
  ]);
  return group;
}

/** The `riposte:previous-groups` tag as a map, when it holds one (it may hold a note instead). */
function previousGroupsTag(instance: Instance): Record<string, string[]> {
  const value = instance.Tags?.find((tag) => tag.Key === PREVIOUS_GROUPS_TAG)?.Value;
  if (value === undefined) return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string[]] => Array.isArray(entry[1]) && entry[1].every((group) => typeof group === 'string')));
  } catch {
    return {};
  }
}

/** Compact JSON of the previous groups, or, when longer than a tag value may be, a short note. */
export function previousGroupsTagValue(previous: Readonly<Record<string, readonly string[]>>, runId: string): string {
  const json = JSON.stringify(previous);
  if (json.length <= TAG_VALUE_LIMIT) return json;
  const note = `too long for a tag: see the undo of run ${runId}`;
  return note.length <= TAG_VALUE_LIMIT ? note : note.slice(0, TAG_VALUE_LIMIT);
}

/** The interfaces that are not yet exactly in their VPC's quarantine group, each with what it should move to. */
function pendingInterfaces(interfaces: readonly InterfaceState[], quarantine: ReadonlyMap<string, GroupState>, name: string): { eni: InterfaceState; to: string }[] {
  return interfaces.flatMap((eni) => {
    const group = quarantine.get(eni.vpcId);
    return group !== undefined && sameGroups(eni.groups, [group.id]) ? [] : [{ eni, to: group?.id ?? name }];
  });
}

const interfaceChange = (eni: InterfaceState, to: readonly string[]): PlannedChange => ({ field: `networkInterfaces.${eni.id}.groups`, from: [...eni.groups], to: [...to] });
const rulesChange = (group: GroupState): PlannedChange => ({ field: `securityGroups.${group.id}.rules`, from: ruleCount(group), to: 0 });

/** Each VPC's Systems Manager endpoints when the step asks for them (and the instance has a VPC), else nothing is read. */
const endpointsFor = (context: ActionContext, wanted: Params, vpcIds: readonly string[]): Promise<ReadonlyMap<string, SsmEndpoints> | undefined> =>
  wanted.ssmEndpoints && vpcIds.length > 0 ? ssmEndpointsOf(context, vpcIds) : Promise.resolve(undefined);

/**
 * Moves every network interface of the instance to its VPC's quarantine
 * security group, first through an allow-all group so tracked connections
 * become untracked and are cut. Rollback puts each interface back in the
 * groups it had and leaves the quarantine group in place (other instances
 * may be in it).
 *
 * The quarantine group has no inbound and no outbound rules, unless the
 * step sets `ssmEndpoints`: then its group (`riposte-quarantine-ssm`,
 * tagged `riposte:purpose=quarantine-ssm-endpoints`, never shared with the
 * plain quarantine) allows TCP 443 out to the VPC's Systems Manager
 * endpoints only, so `ssm.collect-evidence` can still reach the instance
 * after isolation:
 *
 * - an interface endpoint each for `com.amazonaws.<region>.ssm`,
 *   `.ssmmessages` and `.ec2messages`, available, with private DNS on: a
 *   rule to each of its network interfaces' private IPv4 addresses (a /32;
 *   never to the endpoints' security groups, often the VPC's default group,
 *   which would let the instance reach every member of it);
 * - S3, for Run Command's S3 output: through a gateway endpoint (a rule to
 *   the Region's S3 prefix list) or an interface endpoint (as above).
 *
 * Each rule's description names its endpoint. Only when all four can be
 * reached is anything allowed: otherwise the group has no rules, and the plan
 * and the run say which endpoints each VPC lacks and that a collection after
 * isolation cannot reach the instance. No rule is needed for DNS (security
 * groups do not filter the Amazon DNS server). The group's rules are made
 * exactly those wanted, re-derived from the endpoints at each run and
 * verification: others are revoked, missing ones added. A group of that
 * name that Riposte did not create is used only when its rules are already
 * exactly those (`UnmanagedSecurityGroupError` otherwise), and a Riposte
 * group of the other purpose is refused (`QuarantineGroupPurposeError`).
 * The endpoints' policies are the limit on what credentials on the
 * instance can do through them: the plan and the run name each endpoint
 * opened to whose policy lets any principal do anything (AWS's default),
 * and never change a policy.
 *
 * ```yaml
 * - ec2.isolate: { allowAllFirst: true }
 * # or, to collect from the instance after containment, through the VPC's endpoints:
 * - ec2.isolate: { allowAllFirst: true, ssmEndpoints: true }
 * ```
 */
export const isolateInstance = defineAction({
  name: ACTION,
  description: 'Isolate an EC2 instance: every interface to a quarantine security group with no rules, or egress to the VPC’s Systems Manager endpoints only',
  params,
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeVpcEndpoints',
      'ec2:DescribePrefixLists',
      'ec2:CreateSecurityGroup',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:CreateTags',
      'ec2:DeleteTags',
    ],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context, wanted: Params) {
      const instanceId = instanceIdOf(ACTION, context);
      const name = quarantineGroupNameOf(wanted);
      const purpose = quarantinePurposeOf(wanted);
      const interfaces = interfacesIn(await describeInstance(ACTION, context, instanceId));
      const vpcs = vpcsOf(interfaces);
      const [groups, endpoints] = await Promise.all([riposteGroups(context, vpcs, name), endpointsFor(context, wanted, vpcs)]);
      const quarantine = named(groups, name);
      const pending = pendingInterfaces(interfaces, quarantine, name);
      // A group Riposte did not make is not changed: the run uses it as it is, or refuses it.
      const rulesChanges = vpcs.flatMap((vpcId) => {
        const group = quarantine.get(vpcId);
        const change = group !== undefined && !group.managed ? undefined : rulesChangeOf(purpose, group?.id ?? `${vpcId}/${name}`, group, wantedRulesOf(endpoints?.get(vpcId)));
        return change === undefined ? [] : [change];
      });
      const changes = [...pending.map(({ eni, to }) => interfaceChange(eni, [to])), ...rulesChanges];
      const through = wanted.allowAllFirst ? ` (through ${ALLOW_ALL_GROUP_NAME} first)` : '';
      const egress = endpoints === undefined ? '' : `; ${egressNotes(vpcs, endpoints)}`;
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        compliant: changes.length === 0,
        summary:
          interfaces.length === 0
            ? `instance ${instanceId}: no network interfaces attached; nothing to isolate`
            : changes.length === 0
              ? `instance ${instanceId}: already isolated in ${name}${egress}`
              : pending.length === 0
                ? `instance ${instanceId}: would ${purpose === QUARANTINE_PURPOSE ? 'revoke the rules of the quarantine group' : `set the rules of the quarantine group ${name}`}${egress}`
                : `instance ${instanceId}: would move ${pending.map(({ eni, to }) => `${eni.id} ${show(eni.groups)} -> [${to}]`).join(', ')}${through}${egress}`,
        changes,
      };
    },

    async run(context, wanted: Params) {
      // Read again, not the plan's reading, unless nothing has changed since: the run
      // shares its reads until its first change (src/aws/run-read-memo.ts), so a run
      // that starts with isolation acts on the plan's answers without asking twice.
      const instanceId = instanceIdOf(ACTION, context);
      const resource = instanceArnOf(context, instanceId);
      const name = quarantineGroupNameOf(wanted);
      const purpose = quarantinePurposeOf(wanted);
      const instance = await describeInstance(ACTION, context, instanceId);
      const interfaces = interfacesIn(instance);
      if (interfaces.length === 0) {
        return { action: ACTION, resource, changed: false, summary: `instance ${instanceId} has no network interfaces attached; nothing to isolate`, changes: [] };
      }

      const vpcs = vpcsOf(interfaces);
      // The groups and the endpoints are read side by side; a missing group is created
      // while the endpoints' addresses are still being read.
      const [{ found, groups }, endpoints] = await Promise.all([
        riposteGroups(context, vpcs, name).then(async (found) => {
          const existing = named(found, name);
          const description = purpose === QUARANTINE_PURPOSE ? 'Riposte quarantine: no inbound and no outbound traffic' : 'Riposte quarantine: HTTPS out to the VPC Systems Manager endpoints only';
          // Each VPC's groups are its own: they are made ready side by side.
          const groups = await Promise.all(
            vpcs.map(async (vpcId) => {
              const before = existing.get(vpcId);
              return { vpcId, before, group: before ?? (await createGroup(context, vpcId, name, purpose, description)) };
            }),
          );
          return { found, groups };
        }),
        endpointsFor(context, wanted, vpcs),
      ]);
      const wantedRules = new Map(vpcs.map((vpcId) => [vpcId, wantedRulesOf(endpoints?.get(vpcId))]));
      const rulesFor = (vpcId: string): Rule[] => wantedRules.get(vpcId) ?? [];
      for (const { vpcId, before } of groups) if (before !== undefined) refuseForeign(context, before, purpose, rulesFor(vpcId));
      await Promise.all(groups.map(({ vpcId, group }) => setRules(context, group, rulesFor(vpcId))));

      const quarantine = new Map(groups.map(({ vpcId, group }): [string, GroupState] => [vpcId, { ...group, ingress: [], egress: rulesFor(vpcId).map((rule) => rule.permission) }]));
      const created = groups.flatMap(({ vpcId, group, before }) => (before === undefined ? [`${group.id} in ${vpcId}`] : []));
      const rulesChanges = groups.flatMap(({ vpcId, group, before }) => {
        const change = rulesChangeOf(purpose, group.id, before, rulesFor(vpcId));
        return change === undefined ? [] : [change];
      });
      const egress = endpoints === undefined ? '' : `; ${egressNotes(vpcs, endpoints)}`;
      const pending = pendingInterfaces(interfaces, quarantine, name);
      if (pending.length === 0) {
        return {
          action: ACTION,
          resource,
          changed: rulesChanges.length > 0,
          summary:
            rulesChanges.length > 0
              ? `instance ${instanceId} already in ${name}; ${purpose === QUARANTINE_PURPOSE ? 'revoked the rules found on the quarantine group' : `set the rules of the quarantine group (${rulesChanges.map((change) => change.field).join(', ')})`}${egress}`
              : `instance ${instanceId} already isolated in ${name}; nothing changed${egress}`,
          changes: rulesChanges,
        };
      }

      // What to restore. An interface left in Riposte's own groups by an
      // interrupted run keeps the groups the instance's tag recorded then.
      const existingAllowAll = named(found, ALLOW_ALL_GROUP_NAME);
      const allowAllGroups = await Promise.all(
        vpcs.map(async (vpcId): Promise<Array<[string, GroupState]>> => {
          const existing = existingAllowAll.get(vpcId);
          const group = wanted.allowAllFirst ? await ensureAllowAllGroup(context, vpcId, existing) : existing;
          return group === undefined ? [] : [[vpcId, group]];
        }),
      );
      const allowAll = new Map(allowAllGroups.flat());
      const tagged = previousGroupsTag(instance);
      const ours = (eni: InterfaceState): boolean => eni.groups.length > 0 && eni.groups.every((group) => group === quarantine.get(eni.vpcId)?.id || group === allowAll.get(eni.vpcId)?.id);
      const previousGroups: Record<string, string[]> = {};
      for (const eni of interfaces) {
        const isPending = pending.some((entry) => entry.eni.id === eni.id);
        const recorded = tagged[eni.id];
        if (ours(eni) && recorded !== undefined) previousGroups[eni.id] = recorded;
        else if (isPending) previousGroups[eni.id] = [...eni.groups];
      }

      // Record first, so an interruption below leaves the record behind.
      const tagValue = previousGroupsTagValue(previousGroups, context.runId);
      await ec2(context).send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: PREVIOUS_GROUPS_TAG, Value: tagValue }] }));

      // Every interface moves at once (each is its own call); all pass through allow-all before any reaches quarantine.
      const move = (eniId: string, group: string) => ec2(context).send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [group] }));
      if (wanted.allowAllFirst) {
        await Promise.all(
          pending.flatMap(({ eni }) => {
            const group = allowAll.get(eni.vpcId) as GroupState;
            return sameGroups(eni.groups, [group.id]) ? [] : [move(eni.id, group.id)];
          }),
        );
      }
      await Promise.all(pending.map(({ eni, to }) => move(eni.id, to)));

      const notes = [
        ...(created.length === 0 ? [] : [`created quarantine group ${created.join(', ')}`]),
        ...(wanted.allowAllFirst ? [`through ${ALLOW_ALL_GROUP_NAME} first`] : []),
        tagValue.startsWith('{') ? `previous groups tagged ${PREVIOUS_GROUPS_TAG}` : `previous groups too long for a tag (kept in the undo)`,
      ];
      return {
        action: ACTION,
        resource,
        changed: true,
        summary: `instance ${instanceId} isolated: ${pending.map(({ eni, to }) => `${eni.id} ${show(eni.groups)} -> [${to}]`).join(', ')}; ${notes.join('; ')}${egress}`,
        changes: [...pending.map(({ eni, to }) => interfaceChange(eni, [to])), ...rulesChanges],
        undo: { instanceId, previousGroups, quarantineGroups: Object.fromEntries([...quarantine].map(([vpcId, group]) => [vpcId, group.id])) },
      };
    },

    async verify(context, wanted: Params) {
      const instanceId = instanceIdOf(ACTION, context);
      const name = quarantineGroupNameOf(wanted);
      const interfaces = interfacesIn(await describeInstance(ACTION, context, instanceId));
      if (interfaces.length === 0) return { compliant: true, summary: `instance ${instanceId} has no network interfaces attached: nothing can reach it` };
      const vpcs = vpcsOf(interfaces);
      const [groups, endpoints] = await Promise.all([riposteGroups(context, vpcs, name), endpointsFor(context, wanted, vpcs)]);
      const quarantine = named(groups, name);
      const failing = [
        ...vpcs.filter((vpcId) => !quarantine.has(vpcId)).map((vpcId) => `no ${name} group in ${vpcId}`),
        ...[...quarantine].flatMap(([vpcId, group]) => {
          if (!wanted.ssmEndpoints) return ruleCount(group) > 0 ? [`${group.id} has ${group.ingress.length} inbound and ${group.egress.length} outbound rules`] : [];
          const rules = wantedRulesOf(endpoints?.get(vpcId));
          return sameRules(rulesOf(group), rules) ? [] : [`${group.id} has rules [${keysOf(rulesOf(group)).join(', ')}], not [${keysOf(rules).join(', ')}]`];
        }),
        ...interfaces.filter((eni) => quarantine.has(eni.vpcId) && !sameGroups(eni.groups, [quarantine.get(eni.vpcId)?.id ?? ''])).map((eni) => `${eni.id} is in ${show(eni.groups)}`),
      ];
      const only = `every interface (${interfaces.map((eni) => eni.id).join(', ')}) is only in ${name}`;
      return {
        compliant: failing.length === 0,
        summary:
          failing.length > 0
            ? `instance ${instanceId} not isolated: ${failing.join('; ')}`
            : endpoints === undefined
              ? `instance ${instanceId}: ${only}, which has no rules`
              : `instance ${instanceId}: ${only}; ${egressNotes(vpcs, endpoints)}`,
      };
    },

    undoOfPlanned(context, planned) {
      const previousGroups = Object.fromEntries(
        planned.flatMap((change): Array<[string, string[]]> => {
          const eni = /^networkInterfaces\.(eni-[0-9a-f]+)\.groups$/.exec(change.field)?.[1];
          return eni !== undefined && Array.isArray(change.from) && change.from.every((group) => typeof group === 'string') ? [[eni, [...change.from]]] : [];
        }),
      );
      return Object.keys(previousGroups).length === 0 ? undefined : { instanceId: instanceIdOf(ACTION, context), previousGroups, quarantineGroups: {} };
    },
    async rollback(context, undo: IsolateUndo) {
      const resource = instanceArnOf(context, undo.instanceId);
      const ids = Object.keys(undo.previousGroups);
      const current = ids.length === 0 ? [] : await describeInterfaces(context, [{ Name: 'network-interface-id', Values: ids }]);
      const changes: PlannedChange[] = [];
      const gone: string[] = [];
      for (const [eniId, previous] of Object.entries(undo.previousGroups)) {
        const eni = current.find((candidate) => candidate.id === eniId);
        if (eni === undefined) {
          gone.push(eniId);
          continue;
        }
        if (previous.length === 0 || sameGroups(eni.groups, previous)) continue;
        await ec2(context).send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [...previous] }));
        changes.push(interfaceChange(eni, previous));
      }

      let tag: string | undefined;
      try {
        tag = (await describeInstance(ACTION, context, undo.instanceId)).Tags?.find((candidate) => candidate.Key === PREVIOUS_GROUPS_TAG)?.Value;
      } catch (error) {
        if (!(error instanceof InstanceNotFoundError)) throw error;
      }
      if (tag !== undefined) {
        await ec2(context).send(new DeleteTagsCommand({ Resources: [undo.instanceId], Tags: [{ Key: PREVIOUS_GROUPS_TAG }] }));
        changes.push({ field: `tags.${PREVIOUS_GROUPS_TAG}`, from: tag, to: null });
      }
      return {
        action: ACTION,
        resource,
        changed: changes.length > 0,
        summary: `instance ${undo.instanceId}: previous security groups restored${changes.length === 0 ? ' (already in place)' : ''}${gone.length === 0 ? '' : `; interfaces no longer present: ${gone.join(', ')}`}; quarantine group left in place`,
        changes,
      };
    },
  },
});
