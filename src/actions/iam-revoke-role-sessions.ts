import { DeleteRolePolicyCommand, GetInstanceProfileCommand, GetRolePolicyCommand, IAMClient, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import * as z from '../zod.js';

import { parseArn } from '../aws-names.js';
import { currentAssociation } from './ec2-detach-instance-profile.js';
import { instanceArnOf } from './arns.js';
import { assertInstanceExists, instanceIdOf } from './ec2-instance.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

const ACTION = 'iam.revoke-role-sessions';

/** The inline policy Riposte puts on the role. */
export const REVOKE_POLICY_NAME = 'riposte-revoke-older-sessions';

/** What the run replaced: the role, and the document that had the policy's name before (`null`: none). */
export type RevokeRoleSessionsUndo = { readonly roleName: string; readonly policyName: string; readonly previousDocument: string | null };

interface InstanceRole {
  readonly name: string;
  readonly arn: string;
  /** Where the role was found, for summaries. */
  readonly via: string;
}

/** The last segment of an IAM ARN's resource (`instance-profile/path/name` -> `name`). */
const lastSegment = (arn: string | undefined): string | undefined => parseArn(arn)?.resource.split('/').at(-1) || undefined;

const roleArnFor = (context: ActionContext, name: string): string => `arn:${context.target.partition}:iam::${context.target.account}:role/${name}`;

async function roleOfProfile(context: ActionContext, profileArn: string, via: string): Promise<InstanceRole | null> {
  const profileName = lastSegment(profileArn);
  if (profileName === undefined) return null;
  try {
    const { InstanceProfile } = await context.clients.create(IAMClient, context.target).send(new GetInstanceProfileCommand({ InstanceProfileName: profileName }));
    const role = InstanceProfile?.Roles?.[0];
    if (role?.RoleName === undefined) return null;
    return { name: role.RoleName, arn: role.Arn ?? roleArnFor(context, role.RoleName), via: `${via} ${profileArn}` };
  } catch (error) {
    if (error instanceof NoSuchEntityException) return null;
    throw error;
  }
}

/**
 * The instance's role: through its live profile association, or, when an
 * earlier step of the run already detached the profile, through the
 * profile and role the step's resource carries. In a run that resource is
 * the target as the pipeline resolved it, live, before any step ran — the
 * association EC2 showed then — never the profile or role a finding names.
 * `null` when the instance has no role at all (nothing is revoked).
 * @throws InstanceNotFoundError
 */
async function instanceRole(context: ActionContext, instanceId: string): Promise<InstanceRole | null> {
  await assertInstanceExists(ACTION, context, instanceId);
  const association = await currentAssociation(context, instanceId);
  if (association !== null) {
    const role = await roleOfProfile(context, association.instanceProfileArn, 'attached instance profile');
    if (role !== null) return role;
  }
  const named = context.resource.iamRole;
  if (named?.instanceProfileArn !== undefined && named.instanceProfileArn !== association?.instanceProfileArn) {
    const role = await roleOfProfile(context, named.instanceProfileArn, 'the instance profile associated when the run began:');
    if (role !== null) return role;
  }
  const name = named?.name ?? lastSegment(named?.arn);
  return name === undefined ? null : { name, arn: named?.arn ?? roleArnFor(context, name), via: 'the role of the instance profile associated when the run began' };
}

/** AWS's documented "revoke active sessions" policy: deny everything to tokens issued before `issuedBefore`. */
export function revokePolicyDocument(issuedBefore: Date): string {
  // Rounded up to a whole second (the form IAM's own console writes): a token issued in the same second is revoked too.
  const time = new Date(Math.ceil(issuedBefore.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Action: ['*'], Resource: ['*'], Condition: { DateLessThan: { 'aws:TokenIssueTime': time } } }],
  });
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** The `aws:TokenIssueTime` cut-off of a revoke policy document, or `undefined` when the document is not one. */
export function revokedBefore(document: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return undefined;
  }
  for (const statement of asList((parsed as { Statement?: unknown } | null)?.Statement)) {
    const s = statement as { Effect?: unknown; Action?: unknown; Resource?: unknown; Condition?: { DateLessThan?: Record<string, unknown> } } | null;
    const time = s?.Condition?.DateLessThan?.['aws:TokenIssueTime'];
    if (s?.Effect === 'Deny' && asList(s.Action).includes('*') && asList(s.Resource).includes('*') && typeof time === 'string') return time;
  }
  return undefined;
}

/** IAM returns policy documents URL-encoded (RFC 3986); decoded here. */
function decodeDocument(document: string): string {
  try {
    return decodeURIComponent(document);
  } catch {
    return document;
  }
}

/** The document of the role's inline policy named `policyName`, or `null`. */
async function inlinePolicy(context: ActionContext, roleName: string, policyName = REVOKE_POLICY_NAME): Promise<string | null> {
  try {
    const { PolicyDocument } = await context.clients.create(IAMClient, context.target).send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
    return PolicyDocument === undefined ? null : decodeDocument(PolicyDocument);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return null;
    throw error;
  }
}

const noRole = (instanceId: string): string => `instance ${instanceId}: no role to revoke (no instance profile is associated with it; a profile or role the finding names is not used)`;

/** What plan, run and verify read: the step's instance, its role, and the policy under Riposte's name with its cut-off, if it is a revoke policy. */
interface RevocationState {
  readonly instanceId: string;
  readonly role: InstanceRole | null;
  readonly existing: string | null;
  readonly cutOff: string | undefined;
}

async function revocationState(context: ActionContext): Promise<RevocationState> {
  const instanceId = instanceIdOf(ACTION, context);
  const role = await instanceRole(context, instanceId);
  const existing = role === null ? null : await inlinePolicy(context, role.name);
  return { instanceId, role, existing, cutOff: existing === null ? undefined : revokedBefore(existing) };
}

/**
 * Denies everything to sessions of the instance's role issued before now
 * (an inline policy on `aws:TokenIssueTime`): removing the profile does not
 * invalidate credentials already taken from the instance.
 *
 * Idempotent by name: when the role already has a revoke policy named
 * `riposte-revoke-older-sessions`, the sessions issued before its cut-off
 * are already denied, and the run changes nothing (it does not move the
 * cut-off forward). A policy of that name that is not a revoke policy is
 * replaced, and restored on rollback.
 *
 * ```yaml
 * - iam.revoke-role-sessions: {}
 * ```
 */
export const revokeRoleSessions = defineAction({
  name: ACTION,
  description: "Revoke the instance role's existing sessions (deny tokens issued before now)",
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: ['ec2:DescribeInstances', 'ec2:DescribeIamInstanceProfileAssociations', 'iam:GetInstanceProfile', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context) {
      const { instanceId, role, existing, cutOff } = await revocationState(context);
      if (role === null) return { action: ACTION, resource: instanceArnOf(context, instanceId), compliant: true, summary: noRole(instanceId), changes: [] };
      return {
        action: ACTION,
        resource: role.arn,
        compliant: cutOff !== undefined,
        summary:
          cutOff !== undefined
            ? `role ${role.name}: sessions issued before ${cutOff} already revoked (${REVOKE_POLICY_NAME})`
            : `role ${role.name} (from ${role.via}): would deny all actions to sessions issued before the run`,
        changes: cutOff !== undefined ? [] : [{ field: `RolePolicy ${REVOKE_POLICY_NAME}`, from: existing, to: 'deny * to tokens issued before now' }],
      };
    },
    async run(context) {
      const { instanceId, role, existing, cutOff } = await revocationState(context);
      if (role === null) return { action: ACTION, resource: instanceArnOf(context, instanceId), changed: false, summary: noRole(instanceId), changes: [] };
      if (cutOff !== undefined) {
        return {
          action: ACTION,
          resource: role.arn,
          changed: false,
          summary: `role ${role.name}: sessions issued before ${cutOff} already revoked; nothing changed`,
          changes: [],
        };
      }
      const document = revokePolicyDocument(new Date());
      try {
        await context.clients.create(IAMClient, context.target).send(new PutRolePolicyCommand({ RoleName: role.name, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: document }));
      } catch (error) {
        // A role named only by the finding that no longer exists: its sessions died with it.
        if (error instanceof NoSuchEntityException) return { action: ACTION, resource: role.arn, changed: false, summary: `role ${role.name} does not exist: no role to revoke`, changes: [] };
        throw error;
      }
      const changes: PlannedChange[] = [{ field: `RolePolicy ${REVOKE_POLICY_NAME}`, from: existing, to: document }];
      return {
        action: ACTION,
        resource: role.arn,
        changed: true,
        summary: `role ${role.name} (from ${role.via}): sessions issued before ${revokedBefore(document) ?? 'now'} revoked`,
        changes,
        undo: { roleName: role.name, policyName: REVOKE_POLICY_NAME, previousDocument: existing },
      };
    },
    async verify(context) {
      const { instanceId, role, cutOff } = await revocationState(context);
      if (role === null) return { compliant: true, summary: noRole(instanceId) };
      return {
        compliant: cutOff !== undefined,
        summary: cutOff !== undefined ? `role ${role.name}: sessions issued before ${cutOff} are denied` : `role ${role.name}: no ${REVOKE_POLICY_NAME} deny policy`,
      };
    },
    undoOfPlanned(context, planned) {
      const change = planned.find((candidate) => candidate.field === `RolePolicy ${REVOKE_POLICY_NAME}`);
      // The role the run resolved (a retry acts on its earlier attempt's targets): the one the plan named.
      const roleName = context.resource.iamRole?.name ?? lastSegment(context.resource.iamRole?.arn);
      if (change === undefined || roleName === undefined || (change.from !== null && typeof change.from !== 'string')) return undefined;
      return { roleName, policyName: REVOKE_POLICY_NAME, previousDocument: change.from };
    },
    async rollback(context, undo: RevokeRoleSessionsUndo) {
      const iam = context.clients.create(IAMClient, context.target);
      const current = await inlinePolicy(context, undo.roleName, undo.policyName);
      const resource = roleArnFor(context, undo.roleName);
      if (undo.previousDocument !== null) {
        await iam.send(new PutRolePolicyCommand({ RoleName: undo.roleName, PolicyName: undo.policyName, PolicyDocument: undo.previousDocument }));
        return {
          action: ACTION,
          resource,
          changed: current !== undo.previousDocument,
          summary: `role ${undo.roleName}: previous ${undo.policyName} policy restored`,
          changes: current === undo.previousDocument ? [] : [{ field: `RolePolicy ${undo.policyName}`, from: current, to: undo.previousDocument }],
        };
      }
      if (current === null) {
        return { action: ACTION, resource, changed: false, summary: `role ${undo.roleName}: ${undo.policyName} already removed`, changes: [] };
      }
      await iam.send(new DeleteRolePolicyCommand({ RoleName: undo.roleName, PolicyName: undo.policyName }));
      return {
        action: ACTION,
        resource,
        changed: true,
        summary: `role ${undo.roleName}: ${undo.policyName} removed, as before the run`,
        changes: [{ field: `RolePolicy ${undo.policyName}`, from: current, to: null }],
      };
    },
  },
});
