import { stepOrderOf, targetResource, type ActionContext, type ActionDefinition, type LiveView, type ResolvedTarget } from '../actions/index.js';
import type { MemberTarget } from '../aws/index.js';
import { ec2Arn, instanceIdIn, securityGroupIdIn } from '../aws-names.js';
import { serializeError, type SerializedError } from '../errors.js';
import type { Finding, Resource } from '../intake/index.js';
import type { RunRecord } from '../ledger/index.js';
import type { PlaybookStep } from '../playbooks/index.js';
import { StoredTargetsInvalidError, TargetNotResolvedError } from './errors.js';
import type { PipelineServices } from './types.js';

/*
 * The finding names, AWS decides. Each step's target is chosen from the
 * finding (`claimTarget`: which resource, of the kind its action acts on),
 * checked for fields that disagree about it, then resolved once, live, in
 * the member account (`resolveTargets`). What resolving gives — or why it
 * refused — is kept in the run's record: the exemption guard, the change
 * limit, the plan, every action, a resume and a rollback all read that one
 * value, never the finding again.
 */

/** Why a step's target cannot be acted on. */
export type TargetRefusal = 'target-disputed' | 'target-stale' | 'tags-unreadable';

/** What resolving one target came to, and the playbook steps (by index) that act on it. */
export type TargetResolution =
  | {
      readonly status: 'resolved';
      readonly steps: readonly number[];
      readonly target: ResolvedTarget;
      /** What the finding reported that AWS no longer shows (a profile since replaced): the run acts on what AWS shows. */
      readonly stale?: readonly string[];
    }
  | {
      readonly status: 'refused';
      readonly steps: readonly number[];
      readonly code: TargetRefusal;
      /** The resource as the finding names it. */
      readonly resource: string;
      /** Why, naming the values that disagree. */
      readonly reason: string;
      readonly error?: SerializedError;
    };

/** Every target of a run, resolved once (kept in the run record as `targets`). */
export type RunTargets = readonly TargetResolution[];

/**
 * What a step's action names in the finding, before AWS is asked: an
 * instance or group id, the account, a resource no step acts on (its tags
 * still guard the run), or a resource the finding's own fields disagree about.
 */
export type TargetClaim =
  | { readonly kind: 'instance'; readonly id: string; readonly resource: Resource }
  | { readonly kind: 'security-group'; readonly id: string; readonly resource: Resource }
  | { readonly kind: 'account'; readonly resource: Resource }
  | { readonly kind: 'reported'; readonly resource: Resource }
  | { readonly kind: 'disputed'; readonly resource: Resource; readonly reasons: readonly string[] };

/** Resource types each action target acts on, most specific first. */
const fits: Record<Exclude<ActionDefinition['target'], 'finding'>, (resource: Resource) => boolean> = {
  instance: (resource) => resource.type === 'AwsEc2Instance' || resource.instanceId !== undefined,
  'security-group': (resource) => resource.type === 'AwsEc2SecurityGroup' || (resource.type !== 'AwsEc2Instance' && resource.securityGroupIds.length > 0),
  account: (resource) => resource.type === 'AwsAccount',
};

/** The account itself as a resource, for account-level actions on findings that name none. */
function accountResource(finding: Finding): Resource {
  return {
    type: 'AwsAccount',
    id: `AWS::::Account:${finding.account}`,
    account: finding.account,
    region: finding.region,
    partition: finding.partition,
    securityGroupIds: [],
    networkInterfaces: [],
  };
}

const ACCOUNT_ID = /^AWS::::Account:(\d{12})$/;

/** Where a resource lives: a step acts only in the finding's own account (and, for regional resources, region). */
function placeDisputes(finding: Finding, resource: Resource, regional: boolean): string[] {
  const reasons: string[] = [];
  if (resource.account !== finding.account) reasons.push(`the resource is in account ${resource.account}, the finding in account ${finding.account}`);
  if (regional && resource.region !== finding.region) reasons.push(`the resource is in region ${resource.region}, the finding in region ${finding.region}`);
  return reasons;
}

/** The text fields that name a resource: its `Id`, and its ARN when that is another string. */
const namingFields = (resource: Resource): Array<[string, string]> => [
  ['Id', resource.id] as [string, string],
  ...(resource.arn === undefined || resource.arn === resource.id ? [] : [['ARN', resource.arn] as [string, string]]),
];

/**
 * What each field of an instance resource says the instance is. Of type
 * `AwsEc2Instance`, every field that names it (Id, ARN, the instance id
 * intake read from Details) must name the same instance; of another type,
 * only a network interface names an instance (its attachment), and an `Id`
 * that is an instance's is a type that does not match its id.
 */
function instanceDisputes(resource: Resource): string[] {
  if (resource.type !== 'AwsEc2Instance') {
    const named = instanceIdIn(resource.id);
    if (named !== undefined) return [`its Type is ${resource.type}, but its Id ${resource.id} names EC2 instance ${named}`];
    // A network interface names the instance it is attached to; no other type names an instance.
    return resource.type === 'AwsEc2NetworkInterface' ? [] : [`its Type is ${resource.type}, but it names EC2 instance ${resource.instanceId ?? '(none)'}`];
  }
  if (resource.instanceId === undefined) return [`its Type is AwsEc2Instance, but neither its Id ${resource.id} nor its Details name an EC2 instance`];
  return namingFields(resource).flatMap(([field, text]) => {
    const named = instanceIdIn(text);
    return named === resource.instanceId ? [] : [`its ${field} ${text} names ${named === undefined ? 'no EC2 instance' : `instance ${named}`}, while its Details name instance ${resource.instanceId}`];
  });
}

/** As `instanceDisputes`, for a security group: the Id, the ARN and the group id from Details name one group. */
function securityGroupDisputes(resource: Resource): string[] {
  if (resource.type !== 'AwsEc2SecurityGroup') {
    const named = securityGroupIdIn(resource.id);
    return named === undefined ? [] : [`its Type is ${resource.type}, but its Id ${resource.id} names security group ${named}`];
  }
  const [groupId, ...more] = resource.securityGroupIds;
  if (groupId === undefined) return [`its Type is AwsEc2SecurityGroup, but neither its Id ${resource.id} nor its Details name a security group`];
  if (more.length > 0) return [`it names ${resource.securityGroupIds.length} security groups (${resource.securityGroupIds.join(', ')}) as one`];
  return namingFields(resource).flatMap(([field, text]) => {
    const named = securityGroupIdIn(text);
    return named === groupId ? [] : [`its ${field} ${text} names ${named === undefined ? 'no security group' : `security group ${named}`}, while its Details name ${groupId}`];
  });
}

function accountDisputes(finding: Finding, resource: Resource): string[] {
  const named = ACCOUNT_ID.exec(resource.id)?.[1];
  return [
    ...placeDisputes(finding, resource, false),
    ...(named === undefined || named === finding.account ? [] : [`its Id ${resource.id} names account ${named}, the finding account ${finding.account}`]),
  ];
}

/**
 * The resource a step's action names in the finding (an instance for
 * instance actions, the group for security group actions, the account for
 * account settings), and whether the finding's own fields agree about it.
 * A step on the finding record itself names nothing (`undefined`). When the
 * finding names nothing of the action's kind, its first resource is
 * reported (its tags still guard the run; the action then says what it
 * could not find).
 */
export function claimTarget(finding: Finding, action: ActionDefinition): TargetClaim | undefined {
  if (action.target === 'finding') return undefined;
  const found = finding.resources.find(fits[action.target]);
  if (found === undefined) return action.target === 'account' ? { kind: 'account', resource: accountResource(finding) } : reportedClaim(finding.resources[0] ?? accountResource(finding));
  const disputes = (reasons: readonly string[]): TargetClaim => ({ kind: 'disputed', resource: found, reasons: [...(found.disputed ?? []), ...reasons] });
  switch (action.target) {
    case 'instance': {
      const reasons = [...placeDisputes(finding, found, true), ...instanceDisputes(found)];
      const id = found.instanceId;
      return reasons.length > 0 || (found.disputed?.length ?? 0) > 0 || id === undefined ? disputes(reasons) : { kind: 'instance', id, resource: found };
    }
    case 'security-group': {
      const reasons = [...placeDisputes(finding, found, true), ...securityGroupDisputes(found)];
      const id = found.securityGroupIds[0];
      return reasons.length > 0 || (found.disputed?.length ?? 0) > 0 || id === undefined ? disputes(reasons) : { kind: 'security-group', id, resource: found };
    }
    case 'account':
      return accountClaim(finding, found);
  }
}

/** The account an `AwsAccount` resource names: the finding's own, or disputed. */
function accountClaim(finding: Finding, resource: Resource): TargetClaim {
  const reasons = [...(resource.disputed ?? []), ...accountDisputes(finding, resource)];
  return reasons.length > 0 ? { kind: 'disputed', resource, reasons } : { kind: 'account', resource };
}

/** A resource no step acts on, whose tags guard the run: refused too when the finding disagrees with itself about it (its exemption could not be trusted). */
function reportedClaim(resource: Resource): TargetClaim {
  return (resource.disputed?.length ?? 0) > 0 ? { kind: 'disputed', resource, reasons: resource.disputed ?? [] } : { kind: 'reported', resource };
}

/** One claim per distinct thing named: two steps on the same instance share one resolution (one read). */
function claimKey(claim: TargetClaim): string {
  switch (claim.kind) {
    case 'instance':
    case 'security-group':
      return `${claim.kind}:${claim.id}`;
    case 'account':
      return 'account';
    case 'reported':
    case 'disputed':
      return `${claim.kind}:${claim.resource.id}`;
  }
}

/** How a resource is named in reasons and logs: its ARN, else its id. */
const named = (resource: Resource): string => resource.arn ?? resource.id;

/** A stable name for a target across deliveries and accounts: what change limits count. Built from what AWS answered, never the finding's `Id`. */
export function resourceKey(target: ResolvedTarget): string {
  return target.arn;
}

/** What the finding reported of an instance that AWS no longer shows. */
function staleInstanceFacts(reported: Resource, target: Extract<ResolvedTarget, { kind: 'instance' }>): string[] {
  const notes: string[] = [];
  const reportedProfile = reported.iamRole?.instanceProfileArn;
  const liveProfile = target.instance.profile?.arn;
  if (reportedProfile !== undefined && reportedProfile !== liveProfile) {
    notes.push(`the finding names instance profile ${reportedProfile}; the instance has ${liveProfile === undefined ? 'no instance profile' : liveProfile} now`);
  }
  return notes;
}

/** Instance states in which there is nothing left to act on. */
const GONE_STATES = new Set(['shutting-down', 'terminated']);

async function resolveClaim(finding: Finding, claim: TargetClaim, steps: readonly number[], live: LiveView): Promise<TargetResolution> {
  const where = `in account ${finding.account}, region ${finding.region}`;
  const base = { account: finding.account, region: finding.region, partition: finding.partition };
  const refused = (code: TargetRefusal, reason: string, error?: unknown): TargetResolution => ({
    status: 'refused',
    steps,
    code,
    resource: named(claim.resource),
    reason,
    ...(error === undefined ? {} : { error: serializeError(error) }),
  });
  try {
    switch (claim.kind) {
      case 'disputed':
        return refused('target-disputed', `the finding disagrees with itself about ${named(claim.resource)}: ${claim.reasons.join('; ')}. A disputed resource is never acted on: nothing changed`);
      case 'instance': {
        const instance = await live.instance(claim.id, claim.resource);
        if (instance === undefined)
          return refused('target-stale', `instance ${claim.id}, named by the finding, does not exist ${where}: the finding is stale (or names an unknown instance); nothing changed`);
        if (GONE_STATES.has(instance.state)) return refused('target-stale', `instance ${claim.id} is ${instance.state} ${where}: the finding is stale; nothing changed`);
        const target: ResolvedTarget = {
          ...base,
          kind: 'instance',
          type: 'AwsEc2Instance',
          id: claim.id,
          arn: ec2Arn(finding.partition, finding.region, finding.account, 'instance', claim.id),
          tags: { kind: 'tags', tags: instance.tags },
          instance,
        };
        const stale = staleInstanceFacts(claim.resource, target);
        return { status: 'resolved', steps, target, ...(stale.length === 0 ? {} : { stale }) };
      }
      case 'security-group': {
        const group = await live.securityGroup(claim.id, claim.resource);
        if (group === undefined)
          return refused('target-stale', `security group ${claim.id}, named by the finding, does not exist ${where}: the finding is stale (or names an unknown group); nothing changed`);
        return {
          status: 'resolved',
          steps,
          target: {
            ...base,
            kind: 'security-group',
            type: 'AwsEc2SecurityGroup',
            id: claim.id,
            arn: ec2Arn(finding.partition, finding.region, finding.account, 'security-group', claim.id),
            tags: { kind: 'tags', tags: group.tags },
            securityGroup: group,
          },
        };
      }
      case 'account':
        return {
          status: 'resolved',
          steps,
          target: {
            ...base,
            kind: 'account',
            type: 'AwsAccount',
            id: `AWS::::Account:${finding.account}`,
            arn: `arn:${finding.partition}:iam::${finding.account}:root`,
            tags: { kind: 'untaggable', reason: 'an account has no resource tags: account exemptions apply' },
          },
        };
      case 'reported': {
        const { resource } = claim;
        const tags = await live.tags(resource);
        return {
          status: 'resolved',
          steps,
          target: { ...base, kind: 'reported', type: resource.type, id: resource.id, arn: resource.arn ?? `${resource.account}/${resource.region}/${resource.id}`, tags, resource },
        };
      }
    }
  } catch (error) {
    return refused('tags-unreadable', `the tags of ${named(claim.resource)} could not be read, so its exemption cannot be checked: nothing changed (${serializeError(error).message})`, error);
  }
}

/**
 * Every target of a playbook's steps, each resolved once, live, through
 * `live` (the member account as it is now): one resolution per distinct
 * resource named, listing the steps that act on it. A playbook whose steps
 * all act on the finding record is still guarded by its first resource's
 * tags: that resource is resolved too, for no step.
 *
 * Nothing here throws for what AWS answers: a read that fails is a
 * `tags-unreadable` refusal, a resource that no longer exists a
 * `target-stale` one, a finding that disagrees with itself a
 * `target-disputed` one.
 */
export async function resolveTargets(finding: Finding, actions: readonly ActionDefinition[], live: LiveView): Promise<RunTargets> {
  const claims = new Map<string, { claim: TargetClaim; steps: number[] }>();
  actions.forEach((action, index) => {
    const claim = claimTarget(finding, action);
    if (claim === undefined) return;
    const key = claimKey(claim);
    const entry = claims.get(key);
    if (entry === undefined) claims.set(key, { claim, steps: [index] });
    else entry.steps.push(index);
  });
  if (claims.size === 0) {
    const first = finding.resources[0];
    const claim: TargetClaim = first === undefined ? { kind: 'account', resource: accountResource(finding) } : first.type === 'AwsAccount' ? accountClaim(finding, first) : reportedClaim(first);
    claims.set(claimKey(claim), { claim, steps: [] });
  }
  return Promise.all([...claims.values()].map(({ claim, steps }) => resolveClaim(finding, claim, steps, live)));
}

/**
 * The target a run is guarded on (change limits): the target of its first
 * step that acts on something other than the finding record, or, for a
 * playbook acting only on the finding, the resource resolved to guard it.
 */
export function primaryTarget(targets: RunTargets): TargetResolution | undefined {
  let primary: TargetResolution | undefined;
  for (const resolution of targets) {
    const first = resolution.steps[0] ?? Infinity;
    if (primary === undefined || first < (primary.steps[0] ?? Infinity)) primary = resolution;
  }
  return primary;
}

/** Where a finding's steps act: its member account and region, under the run's correlation id (which names the role session). */
export function memberTarget(finding: Finding, correlationId: string): MemberTarget {
  return { account: finding.account, region: finding.region, partition: finding.partition, correlationId };
}

/**
 * The resource step `index` acts on, as its action sees it: its resolved
 * target. A step on the finding record itself is given the run's primary
 * target (it acts on neither; errors name it).
 * @throws TargetNotResolvedError when the run holds no resolved target for the step.
 */
export function stepResource(targets: RunTargets | undefined, index: number, runId: string): Resource {
  const own = targets?.find((resolution) => resolution.steps.includes(index));
  const resolution = own ?? (targets === undefined ? undefined : primaryTarget(targets));
  if (resolution?.status !== 'resolved') throw new TargetNotResolvedError(runId, index);
  return targetResource(resolution.target);
}

/** What one step of a run (or of its rollback) acts with and on. */
export interface StepTargeting {
  readonly finding: Finding;
  readonly targets: RunTargets | undefined;
}

/** The context one step of a run (or of its rollback) acts in. */
export function stepContext(
  services: PipelineServices,
  run: StepTargeting,
  index: number,
  ids: { readonly runId: string; readonly correlationId: string; readonly playbookId: string; readonly earlierRunIds?: readonly string[] },
  steps?: readonly PlaybookStep[],
): ActionContext {
  return {
    clients: services.clients,
    hosting: services.hosting,
    target: memberTarget(run.finding, ids.correlationId),
    finding: run.finding,
    resource: stepResource(run.targets, index, ids.runId),
    runId: ids.runId,
    playbookId: ids.playbookId,
    ...(ids.earlierRunIds === undefined || ids.earlierRunIds.length === 0 ? {} : { earlierRunIds: ids.earlierRunIds }),
    ...(steps === undefined ? {} : { order: stepOrderOf(steps, index) }),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const TARGET_KINDS: ReadonlySet<unknown> = new Set(['instance', 'security-group', 'account', 'reported']);
const REFUSALS: ReadonlySet<unknown> = new Set(['target-disputed', 'target-stale', 'tags-unreadable']);

/** Whether one stored resolution has every field a stage relies on. */
function validResolution(value: unknown): boolean {
  if (!isObject(value) || !Array.isArray(value.steps) || !value.steps.every((step) => Number.isInteger(step))) return false;
  if (value.status === 'refused') return REFUSALS.has(value.code) && typeof value.reason === 'string' && typeof value.resource === 'string';
  if (value.status !== 'resolved' || !isObject(value.target)) return false;
  const target = value.target;
  return TARGET_KINDS.has(target.kind) && ['id', 'arn', 'account', 'region', 'partition', 'type'].every((field) => typeof target[field] === 'string') && isObject(target.tags);
}

/**
 * The targets a resumed or rolled-back run acts on: exactly those its
 * record holds (resolved when the run was claimed), never the finding's.
 * @throws StoredTargetsInvalidError when the record holds none, or they are damaged.
 */
export function restoreTargets(record: RunRecord): RunTargets {
  const stored = record.targets;
  if (!Array.isArray(stored)) throw new StoredTargetsInvalidError(record.runId, 'targets');
  stored.forEach((resolution, index) => {
    if (!validResolution(resolution)) throw new StoredTargetsInvalidError(record.runId, `targets[${index}]`);
  });
  return stored as RunTargets;
}
