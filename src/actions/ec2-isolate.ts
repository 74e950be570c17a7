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

/**
 * The quarantine group of the VPC, created when missing, with no inbound and
 * no outbound rules (a new group's default outbound rule is revoked; rules
 * found on a Riposte-managed group are revoked too).
 */
async function ensureQuarantineGroup(context: ActionContext, vpcId: string, name: string, existing: GroupState | undefined): Promise<{ group: GroupState; before: GroupState | undefined }> {
  if (existing !== undefined && !existing.managed && ruleCount(existing) > 0) {
    throw new UnmanagedSecurityGroupError(ACTION, context, existing, MANAGED_TAG, `has ${existing.ingress.length} inbound and ${existing.egress.length} outbound rules`);
  }
  const group = existing ?? (await createGroup(context, vpcId, name, 'quarantine', 'Riposte quarantine: no inbound and no outbound traffic'));
  await Promise.all([
    ...(group.ingress.length > 0 ? [ec2(context).send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: group.ingress.map(asRequest) }))] : []),
    ...(group.egress.length > 0 ? [ec2(context).send(new RevokeSecurityGroupEgressCommand({ GroupId: group.id, IpPermissions: group.egress.map(asRequest) }))] : []),
  ]);
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
      const interfaces = interfacesIn(await describeInstance(ACTION, context, instanceId));
      const quarantine = named(await riposteGroups(context, vpcsOf(interfaces), wanted.quarantineGroupName), wanted.quarantineGroupName);
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
      // Read again, not the plan's reading, unless nothing has changed since: the run
      // shares its reads until its first change (src/aws/run-read-memo.ts), so a run
      // that starts with isolation acts on the plan's answers without asking twice.
      const instanceId = instanceIdOf(ACTION, context);
      const resource = instanceArnOf(context, instanceId);
      const instance = await describeInstance(ACTION, context, instanceId);
      const interfaces = interfacesIn(instance);
      if (interfaces.length === 0) {
        return { action: ACTION, resource, changed: false, summary: `instance ${instanceId} has no network interfaces attached; nothing to isolate`, changes: [] };
      }

      const vpcs = vpcsOf(interfaces);
      const found = await riposteGroups(context, vpcs, wanted.quarantineGroupName);
      const existingQuarantine = named(found, wanted.quarantineGroupName);
      const existingAllowAll = named(found, ALLOW_ALL_GROUP_NAME);
      // Each VPC's groups are its own: they are made ready side by side.
      const ready = await Promise.all(vpcs.map(async (vpcId) => ({ vpcId, ...(await ensureQuarantineGroup(context, vpcId, wanted.quarantineGroupName, existingQuarantine.get(vpcId))) })));
      const quarantine = new Map(ready.map(({ vpcId, group }): [string, GroupState] => [vpcId, group]));
      const created = ready.flatMap(({ vpcId, group, before }) => (before === undefined ? [`${group.id} in ${vpcId}`] : []));
      const rulesChanges = ready.flatMap(({ before }) => (before !== undefined && ruleCount(before) > 0 ? [rulesChange(before)] : []));
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
        summary: `instance ${instanceId} isolated: ${pending.map(({ eni, to }) => `${eni.id} ${show(eni.groups)} -> [${to}]`).join(', ')}; ${notes.join('; ')}`,
        changes: [...pending.map(({ eni, to }) => interfaceChange(eni, [to])), ...rulesChanges],
        undo: { instanceId, previousGroups, quarantineGroups: Object.fromEntries([...quarantine].map(([vpcId, group]) => [vpcId, group.id])) },
      };
    },

    async verify(context, wanted: Params) {
      const instanceId = instanceIdOf(ACTION, context);
      const interfaces = interfacesIn(await describeInstance(ACTION, context, instanceId));
      if (interfaces.length === 0) return { compliant: true, summary: `instance ${instanceId} has no network interfaces attached: nothing can reach it` };
      const vpcs = vpcsOf(interfaces);
      const quarantine = named(await riposteGroups(context, vpcs, wanted.quarantineGroupName), wanted.quarantineGroupName);
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
