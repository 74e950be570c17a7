import {
  AssociateIamInstanceProfileCommand,
  CreateSecurityGroupCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { detachInstanceProfile, type DetachInstanceProfileUndo } from '../../src/actions/ec2-detach-instance-profile.js';
import { enableTerminationProtection, type TerminationProtectionUndo } from '../../src/actions/ec2-enable-termination-protection.js';
import { REVOKE_POLICY_NAME, revokeRoleSessions, type RevokeRoleSessionsUndo } from '../../src/actions/iam-revoke-role-sessions.js';
import { InstanceNotFoundError, InstanceProfileConflictError } from '../../src/actions/index.js';
import type { ActionBehaviour, ActionContext } from '../../src/actions/runtime.js';
import type { MemberClients } from '../../src/aws/index.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { memberRoleWith, setIamEnforcement, setMemberRolePermissions } from '../support/least-privilege.js';

const MEMBER = '222222222222';
const REGION = 'us-east-1';
/** One of the AMIs moto ships in every region. */
const AMI = 'ami-12c6146b';

type NoParams = Record<string, never>;
const protection = enableTerminationProtection.behaviour as ActionBehaviour<NoParams, TerminationProtectionUndo>;
const detach = detachInstanceProfile.behaviour as ActionBehaviour<NoParams, DetachInstanceProfileUndo>;
const revoke = revokeRoleSessions.behaviour as ActionBehaviour<NoParams, RevokeRoleSessionsUndo>;
const none: NoParams = {};

// ---- helpers (this file only) ----------------------------------------------

const baseContext = (clients?: MemberClients): ActionContext => actionContext('guardduty-ec2-backdoor.json', MEMBER, clients);
const ec2 = (ctx: ActionContext) => ctx.clients.create(EC2Client, ctx.target);
const iam = (ctx: ActionContext) => ctx.clients.create(IAMClient, ctx.target);

/** The context of the finding, pointed at a real instance; `iamRole` replaced when given (`null` removes it). */
function onInstance(ctx: ActionContext, instanceId: string, iamRole?: ActionContext['resource']['iamRole'] | null): ActionContext {
  const { iamRole: findingRole, ...rest } = ctx.resource;
  const role = iamRole === undefined ? findingRole : iamRole;
  return { ...ctx, resource: { ...rest, instanceId, ...(role === null || role === undefined ? {} : { iamRole: role }) } };
}

async function launch(ctx: ActionContext, extra: Partial<RunInstancesCommandInput> = {}): Promise<string> {
  const { Instances } = await ec2(ctx).send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, ...extra }));
  return Instances?.[0]?.InstanceId as string;
}

/** A role EC2 may assume, in an instance profile of its own. */
async function roleWithProfile(ctx: ActionContext, name = 'web-prod'): Promise<{ roleName: string; roleArn: string; profileArn: string }> {
  const { Role } = await iam(ctx).send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }),
  );
  const { InstanceProfile } = await iam(ctx).send(new CreateInstanceProfileCommand({ InstanceProfileName: `${name}-profile` }));
  await iam(ctx).send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: `${name}-profile`, RoleName: name }));
  return { roleName: name, roleArn: Role?.Arn as string, profileArn: InstanceProfile?.Arn as string };
}

async function readAttributes(ctx: ActionContext, instanceId: string): Promise<{ disableApiTermination: boolean | undefined; shutdown: string | undefined }> {
  const termination = await ec2(ctx).send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }));
  const shutdown = await ec2(ctx).send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }));
  return { disableApiTermination: termination.DisableApiTermination?.Value, shutdown: shutdown.InstanceInitiatedShutdownBehavior?.Value };
}

async function readInstance(ctx: ActionContext, instanceId: string) {
  const { Reservations } = await ec2(ctx).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Reservations?.[0]?.Instances?.[0];
}

async function readAssociations(ctx: ActionContext, instanceId: string) {
  const { IamInstanceProfileAssociations } = await ec2(ctx).send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
  return (IamInstanceProfileAssociations ?? []).map((a) => ({ arn: a.IamInstanceProfile?.Arn, state: a.State, id: a.AssociationId }));
}

/** The role's inline policy, decoded (IAM returns it URL-encoded), or undefined. */
async function readRolePolicy(ctx: ActionContext, roleName: string, policyName = REVOKE_POLICY_NAME): Promise<unknown> {
  try {
    const { PolicyDocument } = await iam(ctx).send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
    return JSON.parse(decodeURIComponent(PolicyDocument as string)) as unknown;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return undefined;
    throw error;
  }
}

const MISSING = 'i-0123456789abcdef0';

// ---- tests ------------------------------------------------------------------

describe('instance protection actions against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  describe('ec2.enable-termination-protection', () => {
    it('plans, enables (enforced by EC2), verifies, changes nothing the second time, and rolls back', async () => {
      const base = baseContext();
      const { GroupId } = await ec2(base).send(new CreateSecurityGroupCommand({ GroupName: 'web-prod-sg', Description: 'web' }));
      const instanceId = await launch(base, { InstanceInitiatedShutdownBehavior: 'terminate', SecurityGroupIds: [GroupId as string] });
      const ctx = onInstance(base, instanceId);
      const arn = `arn:aws:ec2:${REGION}:${MEMBER}:instance/${instanceId}`;

      const plan = await protection.plan(ctx, none);
      expect(plan).toMatchObject({ action: 'ec2.enable-termination-protection', resource: arn, compliant: false });
      expect(plan.changes).toEqual([
        { field: 'disableApiTermination', from: false, to: true },
        { field: 'instanceInitiatedShutdownBehavior', from: 'terminate', to: 'stop' },
      ]);
      expect(await readAttributes(ctx, instanceId)).toEqual({ disableApiTermination: false, shutdown: 'terminate' }); // plan changes nothing
      expect((await protection.verify(ctx, none)).compliant).toBe(false);

      const first = await protection.run(ctx, none);

      expect(first).toMatchObject({ changed: true, resource: arn, undo: { instanceId, previous: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' } } });
      expect(await readAttributes(ctx, instanceId)).toEqual({ disableApiTermination: true, shutdown: 'stop' });
      // The security groups are untouched (moto clears them for the other request form of shutdown behaviour).
      expect((await readInstance(ctx, instanceId))?.SecurityGroups?.map((g) => g.GroupId)).toEqual([GroupId]);
      // Enforced, not just recorded.
      await expect(ec2(ctx).send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }))).rejects.toMatchObject({ name: 'OperationNotPermitted' });
      expect(await protection.verify(ctx, none)).toEqual({ compliant: true, summary: `instance ${instanceId}: termination protection on, shutdown behaviour stop` });

      const second = await protection.run(ctx, none);
      expect(second).toMatchObject({ changed: false, changes: [] });
      expect(second.undo).toBeUndefined();

      const rolledBack = await protection.rollback?.(ctx, first.undo as TerminationProtectionUndo);
      expect(rolledBack).toMatchObject({ changed: true });
      expect(await readAttributes(ctx, instanceId)).toEqual({ disableApiTermination: false, shutdown: 'terminate' });
      const terminated = await ec2(ctx).send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
      expect(terminated.TerminatingInstances?.[0]?.InstanceId).toBe(instanceId);
    });

    it('says compliant and changes nothing when protection is already on', async () => {
      const base = baseContext();
      const instanceId = await launch(base, { InstanceInitiatedShutdownBehavior: 'stop' });
      // Not through RunInstances' DisableApiTermination: moto 5.2.1 ignores it there.
      await ec2(base).send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: true } }));
      const ctx = onInstance(base, instanceId);
      expect(await readAttributes(ctx, instanceId)).toEqual({ disableApiTermination: true, shutdown: 'stop' });

      expect(await protection.plan(ctx, none)).toMatchObject({ compliant: true, changes: [] });
      const outcome = await protection.run(ctx, none);
      expect(outcome).toMatchObject({ changed: false, changes: [] });
      expect(outcome.undo).toBeUndefined();
    });

    it('restores only what it changed (termination protection alone)', async () => {
      const base = baseContext();
      const instanceId = await launch(base, { InstanceInitiatedShutdownBehavior: 'stop' });
      const ctx = onInstance(base, instanceId);

      const outcome = await protection.run(ctx, none);
      expect(outcome.changes).toEqual([{ field: 'disableApiTermination', from: false, to: true }]);
      await protection.rollback?.(ctx, outcome.undo as TerminationProtectionUndo);
      expect(await readAttributes(ctx, instanceId)).toEqual({ disableApiTermination: false, shutdown: 'stop' });
    });
  });

  describe('ec2.detach-instance-profile', () => {
    it('plans, detaches, verifies, changes nothing the second time, and re-associates the profile on rollback', async () => {
      const base = baseContext();
      const { profileArn } = await roleWithProfile(base);
      const instanceId = await launch(base);
      await ec2(base).send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: profileArn } }));
      const ctx = onInstance(base, instanceId);
      const [association] = await readAssociations(ctx, instanceId);
      expect(association).toMatchObject({ arn: profileArn, state: 'associated' });

      const plan = await detach.plan(ctx, none);
      expect(plan).toMatchObject({ compliant: false, changes: [{ field: 'IamInstanceProfile', from: profileArn, to: null }] });
      expect(await readAssociations(ctx, instanceId)).toEqual([association]); // plan changes nothing
      expect((await detach.verify(ctx, none)).compliant).toBe(false);

      const first = await detach.run(ctx, none);

      expect(first).toMatchObject({ changed: true, undo: { instanceId, instanceProfileArn: profileArn, associationId: association?.id } });
      expect(await readAssociations(ctx, instanceId)).toEqual([]);
      expect((await readInstance(ctx, instanceId))?.IamInstanceProfile).toBeUndefined();
      expect(await detach.verify(ctx, none)).toEqual({ compliant: true, summary: `instance ${instanceId}: no instance profile attached` });

      const second = await detach.run(ctx, none);
      expect(second).toMatchObject({ changed: false, changes: [] });
      expect(second.summary).toContain('no instance profile attached');
      expect(second.undo).toBeUndefined();

      const rolledBack = await detach.rollback?.(ctx, first.undo as DetachInstanceProfileUndo);
      expect(rolledBack).toMatchObject({ changed: true, changes: [{ field: 'IamInstanceProfile', from: null, to: profileArn }] });
      expect(await readAssociations(ctx, instanceId)).toEqual([{ arn: profileArn, state: 'associated', id: expect.any(String) }]);
      expect((await readInstance(ctx, instanceId))?.IamInstanceProfile?.Arn).toBe(profileArn);
    });

    it('detaches a profile given at launch (RunInstances IamInstanceProfile)', async () => {
      const base = baseContext();
      const { profileArn } = await roleWithProfile(base);
      const instanceId = await launch(base, { IamInstanceProfile: { Arn: profileArn } });
      const ctx = onInstance(base, instanceId);

      expect(await detach.run(ctx, none)).toMatchObject({ changed: true, undo: { instanceProfileArn: profileArn } });
      expect(await readAssociations(ctx, instanceId)).toEqual([]);
    });

    it('will not replace a different profile attached since the run', async () => {
      const base = baseContext();
      const original = await roleWithProfile(base, 'web-prod');
      const other = await roleWithProfile(base, 'other');
      const instanceId = await launch(base, { IamInstanceProfile: { Arn: original.profileArn } });
      const ctx = onInstance(base, instanceId);
      const outcome = await detach.run(ctx, none);
      await ec2(base).send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: other.profileArn } }));

      await expect(detach.rollback?.(ctx, outcome.undo as DetachInstanceProfileUndo)).rejects.toBeInstanceOf(InstanceProfileConflictError);
      expect(await readAssociations(ctx, instanceId)).toMatchObject([{ arn: other.profileArn, state: 'associated' }]);
    });
  });

  describe('iam.revoke-role-sessions', () => {
    it("plans, denies the instance role's older sessions, verifies, changes nothing the second time, and removes the policy on rollback", async () => {
      const base = baseContext();
      const { roleName, roleArn, profileArn } = await roleWithProfile(base);
      const instanceId = await launch(base, { IamInstanceProfile: { Arn: profileArn } });
      const ctx = onInstance(base, instanceId, null);

      const plan = await revoke.plan(ctx, none);
      expect(plan).toMatchObject({ action: 'iam.revoke-role-sessions', resource: roleArn, compliant: false });
      expect(await readRolePolicy(ctx, roleName)).toBeUndefined(); // plan changes nothing
      expect((await revoke.verify(ctx, none)).compliant).toBe(false);

      const started = Date.now();
      const first = await revoke.run(ctx, none);

      expect(first).toMatchObject({ changed: true, resource: roleArn, undo: { roleName, policyName: REVOKE_POLICY_NAME, previousDocument: null } });
      const policy = (await readRolePolicy(ctx, roleName)) as { Statement: { Effect: string; Action: string[]; Resource: string[]; Condition: { DateLessThan: Record<string, string> } }[] };
      expect(policy).toMatchObject({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['*'], Resource: ['*'] }] });
      const cutOff = Date.parse(policy.Statement[0]?.Condition.DateLessThan['aws:TokenIssueTime'] as string);
      expect(cutOff).toBeGreaterThanOrEqual(started);
      expect(cutOff).toBeLessThanOrEqual(Date.now() + 1000);
      expect((await revoke.verify(ctx, none)).compliant).toBe(true);

      const second = await revoke.run(ctx, none);
      expect(second).toMatchObject({ changed: false, changes: [] });
      expect(second.undo).toBeUndefined();
      expect(await revoke.plan(ctx, none)).toMatchObject({ compliant: true });

      await revoke.rollback?.(ctx, first.undo as RevokeRoleSessionsUndo);
      expect(await readRolePolicy(ctx, roleName)).toBeUndefined();
      expect((await revoke.verify(ctx, none)).compliant).toBe(false);
    });

    it("finds the role through the finding's instance profile, or its role name, once the profile is detached", async () => {
      const base = baseContext();
      const { roleName, profileArn } = await roleWithProfile(base);
      const instanceId = await launch(base, { IamInstanceProfile: { Arn: profileArn } });
      expect((await detach.run(onInstance(base, instanceId), none)).changed).toBe(true);

      const byProfile = onInstance(base, instanceId, { instanceProfileArn: profileArn });
      const outcome = await revoke.run(byProfile, none);
      expect(outcome).toMatchObject({ changed: true, undo: { roleName } });
      expect(await readRolePolicy(base, roleName)).toMatchObject({ Statement: [{ Effect: 'Deny' }] });
      await revoke.rollback?.(byProfile, outcome.undo as RevokeRoleSessionsUndo);

      const byName = onInstance(base, instanceId, { name: roleName });
      expect(await revoke.run(byName, none)).toMatchObject({ changed: true, undo: { roleName } });
      expect((await revoke.verify(byName, none)).compliant).toBe(true);
    });

    it('replaces a different policy that has its name, and restores it on rollback', async () => {
      const base = baseContext();
      const { roleName, profileArn } = await roleWithProfile(base);
      const instanceId = await launch(base, { IamInstanceProfile: { Arn: profileArn } });
      const ctx = onInstance(base, instanceId, null);
      const previous = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::web-assets/*' }] };
      await iam(ctx).send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME, PolicyDocument: JSON.stringify(previous) }));

      expect(await revoke.plan(ctx, none)).toMatchObject({ compliant: false });
      const outcome = await revoke.run(ctx, none);
      expect(outcome).toMatchObject({ changed: true, undo: { roleName, previousDocument: JSON.stringify(previous) } });
      expect(await readRolePolicy(ctx, roleName)).toMatchObject({ Statement: [{ Effect: 'Deny' }] });

      await revoke.rollback?.(ctx, outcome.undo as RevokeRoleSessionsUndo);
      expect(await readRolePolicy(ctx, roleName)).toEqual(previous);
    });

    it('changes nothing, without error, when the instance has no role', async () => {
      const base = baseContext();
      const instanceId = await launch(base);
      // The finding still names web-prod-instance-profile, which does not exist in the account.
      const ctx = onInstance(base, instanceId);
      expect(ctx.resource.iamRole?.instanceProfileArn).toBe(`arn:aws:iam::${MEMBER}:instance-profile/web-prod-instance-profile`);

      expect(await revoke.plan(ctx, none)).toMatchObject({ compliant: true, changes: [] });
      const outcome = await revoke.run(ctx, none);
      expect(outcome).toMatchObject({ changed: false, changes: [] });
      expect(outcome.summary).toContain('no role to revoke');
      expect(outcome.undo).toBeUndefined();
    });
  });

  it('each action fails with InstanceNotFoundError, naming account, region and resource, for an instance that does not exist', async () => {
    await launch(baseContext()); // EC2 has instances, just not this one
    const ctx = onInstance(baseContext(), MISSING);
    const expected = { account: MEMBER, region: REGION, resource: `arn:aws:ec2:${REGION}:${MEMBER}:instance/${MISSING}`, instanceId: MISSING };

    for (const behaviour of [protection, detach, revoke] as ActionBehaviour<NoParams, unknown>[]) {
      for (const call of [() => behaviour.plan(ctx, none), () => behaviour.run(ctx, none), () => behaviour.verify(ctx, none)]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(InstanceNotFoundError);
        expect(error).toMatchObject({ code: 'EC2_INSTANCE_NOT_FOUND', context: expected });
      }
    }
    await expect(protection.rollback?.(ctx, { instanceId: MISSING, previous: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' } })).rejects.toBeInstanceOf(
      InstanceNotFoundError,
    );
  });

  describe('with only the declared member permissions (IAM enforcement on)', () => {
    afterEach(() => setIamEnforcement(false));

    it('each action plans, runs, verifies and rolls back', async () => {
      const setup = baseContext();
      const { roleName, profileArn } = await roleWithProfile(setup);
      const instanceId = await launch(setup, { IamInstanceProfile: { Arn: profileArn }, InstanceInitiatedShutdownBehavior: 'terminate' });
      const clients = await memberRoleWith(MEMBER, enableTerminationProtection.permissions.member);

      for (const [action, behaviour] of [
        [enableTerminationProtection, protection],
        [revokeRoleSessions, revoke],
        [detachInstanceProfile, detach],
      ] as const) {
        // Each action alone, with exactly its own permissions (set with enforcement off, through the setup clients).
        await setIamEnforcement(false);
        await setMemberRolePermissions(MEMBER, action.permissions.member);
        await setIamEnforcement(true);
        const own = onInstance(baseContext(clients), instanceId, null);
        const b = behaviour as ActionBehaviour<NoParams, unknown>;
        expect((await b.plan(own, none)).compliant, action.name).toBe(false);
        const outcome = await b.run(own, none);
        expect(outcome.changed, action.name).toBe(true);
        expect((await b.verify(own, none)).compliant, action.name).toBe(true);
        await b.rollback?.(own, outcome.undo);
      }

      await setIamEnforcement(false);
      expect(await readAttributes(setup, instanceId)).toEqual({ disableApiTermination: false, shutdown: 'terminate' });
      expect(await readAssociations(setup, instanceId)).toMatchObject([{ arn: profileArn, state: 'associated' }]);
      expect(await readRolePolicy(setup, roleName)).toBeUndefined();
    });
  });
});
