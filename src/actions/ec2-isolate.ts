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
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type Instance,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { describeInstance, instanceIdOf } from './ec2-instance.js';
import { InstanceNotFoundError, isEc2Error, UnmanagedSecurityGroupError } from './errors.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

const ACTION = 'ec2.isolate';

/** Tag on the instance: compact JSON `{eniId:[sg…]}` of the groups before isolation. */
export const PREVIOUS_GROUPS_TAG = 'riposte:previous-groups';
/** Tags on the security groups Riposte creates (and alone may change). */
export const MANAGED_TAG = 'riposte:managed';
export const PURPOSE_TAG = 'riposte:purpose';
/** The per-VPC group every interface passes through first, so its tracked flows become untracked. */
export const ALLOW_ALL_GROUP_NAME = 'riposte-allow-all';
/** EC2 tag values are at most 256 Unicode characters. */
const TAG_VALUE_LIMIT = 256;

const params = z.strictObject({
  /** Move interfaces to an allow-all group first, so tracked connections are cut. */
  allowAllFirst: z._default(z.boolean(), true),
  quarantineGroupName: z._default(
    z.string().check(
      z.regex(/^[\w .:/()#,@[\]+=&;{}!$*-]{1,255}$/, 'must be a valid security group name'),
      z.refine((name) => !name.toLowerCase().startsWith('sg-'), 'must not start with sg-'),
    ),
    'riposte-quarantine',
  ),
});
type Params = z.output<typeof params>;

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

/** Every interface attached to the instance, primary first. */
const interfacesOf = (context: ActionContext, instanceId: string): Promise<InterfaceState[]> => describeInterfaces(context, [{ Name: 'attachment.instance-id', Values: [instanceId] }]);

const vpcsOf = (interfaces: readonly InterfaceState[]): string[] => [...new Set(interfaces.map((eni) => eni.vpcId))];

function groupState(group: SecurityGroup): GroupState {
  return {
    id: group.GroupId ?? '',
    name: group.GroupName ?? '',
    vpcId: group.VpcId ?? '',
    managed: (group.Tags ?? []).some((tag) => tag.Key === MANAGED_TAG && tag.Value === 'true'),
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

/** The quarantine group of each VPC, where it exists. Reads only. */
async function quarantineGroups(context: ActionContext, vpcIds: readonly string[], name: string): Promise<Map<string, GroupState>> {
  const groups = new Map<string, GroupState>();
  for (const vpcId of vpcIds) {
    const group = await findGroup(context, vpcId, name);
    if (group !== undefined) groups.set(vpcId, group);
  }
  return groups;
}

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

/**
 * The quarantine group of the VPC, created when missing, with no inbound and
 * no outbound rules (a new group's default outbound rule is revoked; rules
 * found on a Riposte-managed group are revoked too).
 */
async function ensureQuarantineGroup(context: ActionContext, vpcId: string, name: string): Promise<{ group: GroupState; before: GroupState | undefined }> {
  const existing = await findGroup(context, vpcId, name);
  if (existing !== undefined && !existing.managed && ruleCount(existing) > 0) {
    throw new UnmanagedSecurityGroupError(ACTION, context, existing, MANAGED_TAG, `has ${existing.ingress.length} inbound and ${existing.egress.length} outbound rules`);
  }
  const group = existing ?? (await createGroup(context, vpcId, name, 'quarantine', 'Riposte quarantine: no inbound and no outbound traffic'));
  if (group.ingress.length > 0) await ec2(context).send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: group.ingress.map(asRequest) }));
  if (group.egress.length > 0) await ec2(context).send(new RevokeSecurityGroupEgressCommand({ GroupId: group.id, IpPermissions: group.egress.map(asRequest) }));
  return { group: { ...group, ingress: [], egress: [] }, before: existing };
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
async function ensureAllowAllGroup(context: ActionContext, vpcId: string): Promise<GroupState> {
  const existing = await findGroup(context, vpcId, ALLOW_ALL_GROUP_NAME);
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
  // One rule a call: a call naming a rule that exists fails as a whole (InvalidPermission.Duplicate).
  for (const range of missing.ingress) await ec2(context).send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [allTraffic(range)] }));
  for (const range of missing.egress) await ec2(context).send(new AuthorizeSecurityGroupEgressCommand({ GroupId: group.id, IpPermissions: [allTraffic(range)] }));
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

/**
 * Moves every network interface of the instance to a quarantine security
 * group (no inbound, no outbound rules), first through an allow-all group so
 * tracked connections become untracked and are cut.
 *
 * ```yaml
 * - ec2.isolate: { allowAllFirst: true }
 * ```
 */
export const isolateInstance = defineAction({
  name: ACTION,
  description: 'Isolate an EC2 instance: every interface to a quarantine security group with no rules',
  params,
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
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
      await describeInstance(ACTION, context, instanceId);
      const interfaces = await interfacesOf(context, instanceId);
      const quarantine = await quarantineGroups(context, vpcsOf(interfaces), wanted.quarantineGroupName);
      const pending = pendingInterfaces(interfaces, quarantine, wanted.quarantineGroupName);
      const changes = [...pending.map(({ eni, to }) => interfaceChange(eni, [to])), ...[...quarantine.values()].filter((group) => group.managed && ruleCount(group) > 0).map(rulesChange)];
      const through = wanted.allowAllFirst ? ` (through ${ALLOW_ALL_GROUP_NAME} first)` : '';
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        compliant: changes.length === 0,
        summary:
          interfaces.length === 0
            ? `instance ${instanceId}: no network interfaces attached; nothing to isolate`
            : changes.length === 0
              ? `instance ${instanceId}: already isolated in ${wanted.quarantineGroupName}`
              : pending.length === 0
                ? `instance ${instanceId}: would revoke the rules of the quarantine group`
                : `instance ${instanceId}: would move ${pending.map(({ eni, to }) => `${eni.id} ${show(eni.groups)} -> [${to}]`).join(', ')}${through}`,
        changes,
      };
    },

    async run(context, wanted: Params) {
      // Read again, not the plan's reading: the state may have moved since.
      const instanceId = instanceIdOf(ACTION, context);
      const resource = instanceArnOf(context, instanceId);
      const instance = await describeInstance(ACTION, context, instanceId);
      const interfaces = await interfacesOf(context, instanceId);
      if (interfaces.length === 0) {
        return { action: ACTION, resource, changed: false, summary: `instance ${instanceId} has no network interfaces attached; nothing to isolate`, changes: [] };
      }

      const vpcs = vpcsOf(interfaces);
      const quarantine = new Map<string, GroupState>();
      const created: string[] = [];
      const rulesChanges: PlannedChange[] = [];
      for (const vpcId of vpcs) {
        const { group, before } = await ensureQuarantineGroup(context, vpcId, wanted.quarantineGroupName);
        quarantine.set(vpcId, group);
        if (before === undefined) created.push(`${group.id} in ${vpcId}`);
        else if (ruleCount(before) > 0) rulesChanges.push(rulesChange(before));
      }
      const pending = pendingInterfaces(interfaces, quarantine, wanted.quarantineGroupName);
      if (pending.length === 0) {
        return {
          action: ACTION,
          resource,
          changed: rulesChanges.length > 0,
          summary:
            rulesChanges.length > 0
              ? `instance ${instanceId} already in ${wanted.quarantineGroupName}; revoked the rules found on the quarantine group`
              : `instance ${instanceId} already isolated in ${wanted.quarantineGroupName}; nothing changed`,
          changes: rulesChanges,
        };
      }

      // What to restore. An interface left in Riposte's own groups by an
      // interrupted run keeps the groups the instance's tag recorded then.
      const allowAll = new Map<string, GroupState>();
      for (const vpcId of vpcs) {
        const group = wanted.allowAllFirst ? await ensureAllowAllGroup(context, vpcId) : await findGroup(context, vpcId, ALLOW_ALL_GROUP_NAME);
        if (group !== undefined) allowAll.set(vpcId, group);
      }
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

      if (wanted.allowAllFirst) {
        for (const { eni } of pending) {
          const group = allowAll.get(eni.vpcId) as GroupState;
          if (!sameGroups(eni.groups, [group.id])) {
            await ec2(context).send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [group.id] }));
          }
        }
      }
      for (const { eni, to } of pending) {
        await ec2(context).send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [to] }));
      }

      const notes = [
        ...(created.length === 0 ? [] : [`created quarantine group ${created.join(', ')}`]),
        ...(wanted.allowAllFirst ? [`through ${ALLOW_ALL_GROUP_NAME} first`] : []),
        tagValue.startsWith('{') ? `previous groups tagged ${PREVIOUS_GROUPS_TAG}` : `previous groups too long for a tag (kept in the undo)`,
      ];
      return {
        action: ACTION,
        resource,
        changed: true,
        summary: `instance ${instanceId} isolated: ${pending.map(({ eni, to }) => `${eni.id} ${show(eni.groups)} -> [${to}]`).join(', ')}; ${notes.join('; ')}`,
        changes: [...pending.map(({ eni, to }) => interfaceChange(eni, [to])), ...rulesChanges],
        undo: { instanceId, previousGroups, quarantineGroups: Object.fromEntries([...quarantine].map(([vpcId, group]) => [vpcId, group.id])) },
      };
    },

    async verify(context, wanted: Params) {
      const instanceId = instanceIdOf(ACTION, context);
      await describeInstance(ACTION, context, instanceId);
      const interfaces = await interfacesOf(context, instanceId);
      if (interfaces.length === 0) return { compliant: true, summary: `instance ${instanceId} has no network interfaces attached: nothing can reach it` };
      const vpcs = vpcsOf(interfaces);
      const quarantine = await quarantineGroups(context, vpcs, wanted.quarantineGroupName);
      const failing = [
        ...vpcs.filter((vpcId) => !quarantine.has(vpcId)).map((vpcId) => `no ${wanted.quarantineGroupName} group in ${vpcId}`),
        ...[...quarantine.values()].filter((group) => ruleCount(group) > 0).map((group) => `${group.id} has ${group.ingress.length} inbound and ${group.egress.length} outbound rules`),
        ...interfaces.filter((eni) => quarantine.has(eni.vpcId) && !sameGroups(eni.groups, [quarantine.get(eni.vpcId)?.id ?? ''])).map((eni) => `${eni.id} is in ${show(eni.groups)}`),
      ];
      return {
        compliant: failing.length === 0,
        summary:
          failing.length === 0
            ? `instance ${instanceId}: every interface (${interfaces.map((eni) => eni.id).join(', ')}) is only in ${wanted.quarantineGroupName}, which has no rules`
            : `instance ${instanceId} not isolated: ${failing.join('; ')}`,
      };
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
