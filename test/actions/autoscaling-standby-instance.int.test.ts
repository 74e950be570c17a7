import {
  AutoScalingClient,
  AutoScalingServiceException,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  AttachInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { MetadataBearer, Pluggable } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

import { standbyInstance, type StandbyInstanceUndo } from '../../src/actions/autoscaling-standby-instance.js';
import type { ActionBehaviour, ActionContext } from '../../src/actions/runtime.js';
import { AutoScalingInstanceUnprotectedError } from '../../src/actions/traffic-errors.js';
import { actionContext, memberClients } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { memberRoleWith, setIamEnforcement, setMemberRolePermissions } from '../support/least-privilege.js';

const MEMBER = '222222222222';
const REGION = 'us-east-1';
/** One of the AMIs moto ships in every region. */
const AMI = 'ami-12c6146b';
const GROUP = 'web-prod-asg';

type NoParams = Record<string, never>;
const standby = standbyInstance.behaviour as ActionBehaviour<NoParams, StandbyInstanceUndo>;
const none: NoParams = {};

// ---- helpers (this file only) ----------------------------------------------

const baseContext = (clients = memberClients()): ActionContext => actionContext('guardduty-ec2-backdoor.json', MEMBER, clients);
const ec2 = (ctx: ActionContext) => ctx.clients.create(EC2Client, ctx.target);
const autoscaling = (ctx: ActionContext) => ctx.clients.create(AutoScalingClient, ctx.target);
const onInstance = (ctx: ActionContext, instanceId: string, vpcId?: string): ActionContext => ({ ...ctx, resource: { ...ctx.resource, instanceId, ...(vpcId === undefined ? {} : { vpcId }) } });

/** A group of `desired` instances (moto launches them at once, InService) in a new VPC; returns its first instance. */
async function groupWithInstances(ctx: ActionContext, desired = 2): Promise<{ instanceId: string; vpcId: string }> {
  const { Vpc } = await ec2(ctx).send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
  const { Subnet } = await ec2(ctx).send(new CreateSubnetCommand({ VpcId: Vpc?.VpcId, CidrBlock: '10.30.1.0/24', AvailabilityZone: `${REGION}a` }));
  await ec2(ctx).send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web-prod', LaunchTemplateData: { ImageId: AMI, InstanceType: 't3.micro' } }));
  await autoscaling(ctx).send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: GROUP,
      LaunchTemplate: { LaunchTemplateName: 'web-prod', Version: '$Latest' },
      MinSize: 1,
      MaxSize: 5,
      DesiredCapacity: desired,
      VPCZoneIdentifier: Subnet?.SubnetId,
    }),
  );
  const instances = await readGroup(ctx);
  return { instanceId: instances.members[0]?.id as string, vpcId: Vpc?.VpcId as string };
}

/** The group as Auto Scaling reads it back: desired capacity and each instance's lifecycle state. */
async function readGroup(ctx: ActionContext): Promise<{ desired: number | undefined; members: { id: string; state: string | undefined }[] }> {
  const { AutoScalingGroups: [group] = [] } = await autoscaling(ctx).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }));
  return { desired: group?.DesiredCapacity, members: (group?.Instances ?? []).map((instance) => ({ id: instance.InstanceId as string, state: instance.LifecycleState })) };
}

/** The instance's group and lifecycle state, as DescribeAutoScalingInstances answers (undefined: in no group). */
async function readMembership(ctx: ActionContext, instanceId: string): Promise<{ group: string | undefined; state: string | undefined } | undefined> {
  const { AutoScalingInstances: [found] = [] } = await autoscaling(ctx).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  return found === undefined ? undefined : { group: found.AutoScalingGroupName, state: found.LifecycleState };
}

/**
 * A client plugin refusing EnterStandby as Auto Scaling refuses a request it cannot
 * carry out (ValidationError, HTTP 400): the emulator (moto 5.2.1) never refuses
 * Standby, and has no lifecycle state in which AWS would. Every other call reaches it.
 */
const refusingStandby: Pluggable<object, MetadataBearer> = {
  applyToStack(stack) {
    stack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'EnterStandbyCommand') {
          throw new AutoScalingServiceException({
            name: 'ValidationError',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: 'The instance is not in a state from which it can enter Standby.',
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'refuseEnterStandby' },
    );
  },
};

// ---- tests ------------------------------------------------------------------

describe('autoscaling.standby-instance against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('puts an InService instance on Standby keeping the desired capacity, changes nothing the second time, and exits Standby on rollback', async () => {
    const base = baseContext();
    const { instanceId, vpcId } = await groupWithInstances(base);
    const ctx = onInstance(base, instanceId, vpcId);
    const arn = `arn:aws:ec2:${REGION}:${MEMBER}:instance/${instanceId}`;

    const plan = await standby.plan(ctx, none);
    expect(plan).toMatchObject({ action: 'autoscaling.standby-instance', resource: arn, compliant: false, changes: [{ field: `autoScalingGroups.${GROUP}`, from: 'InService', to: 'Standby' }] });
    expect(await readMembership(ctx, instanceId)).toEqual({ group: GROUP, state: 'InService' }); // the plan changed nothing
    expect((await standby.verify(ctx, none)).compliant).toBe(false);

    const first = await standby.run(ctx, none);

    expect(first).toMatchObject({ changed: true, resource: arn, undo: { instanceId, groupName: GROUP, how: 'standby' } });
    expect(await readMembership(ctx, instanceId)).toEqual({ group: GROUP, state: 'Standby' });
    // Desired capacity kept: the group launched a replacement and counts two in service beside the one on Standby.
    const contained = await readGroup(ctx);
    expect(contained.desired).toBe(2);
    expect(contained.members.filter((member) => member.state === 'InService').map((member) => member.id)).not.toContain(instanceId);
    expect(contained.members.filter((member) => member.state === 'InService')).toHaveLength(2);
    expect(await standby.verify(ctx, none)).toMatchObject({ compliant: true });

    const second = await standby.run(ctx, none);
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(second.undo).toBeUndefined();
    expect(second.summary).toContain('Standby');
    expect((await readGroup(ctx)).desired).toBe(2);

    const rolledBack = await standby.rollback?.(ctx, first.undo as StandbyInstanceUndo);

    expect(rolledBack).toMatchObject({ changed: true, changes: [{ field: `autoScalingGroups.${GROUP}`, from: 'Standby', to: 'InService' }] });
    expect(await readMembership(ctx, instanceId)).toEqual({ group: GROUP, state: 'InService' });
    // ExitStandby (API reference): "After you put the instances back in service, the desired capacity is incremented."
    // The replacement stays until the group scales in; the rollback says so rather than terminating an instance.
    expect((await readGroup(ctx)).desired).toBe(3);
    expect(rolledBack?.summary).toContain('desired capacity 3');
    // Rolling back again changes nothing.
    expect(await standby.rollback?.(ctx, first.undo as StandbyInstanceUndo)).toMatchObject({ changed: false });
  });

  it('detaches without decrementing when the group refuses Standby, and attaches the instance back on rollback', async () => {
    const base = baseContext(memberClients([refusingStandby]));
    const { instanceId, vpcId } = await groupWithInstances(base);
    const ctx = onInstance(base, instanceId, vpcId);

    const first = await standby.run(ctx, none);

    expect(first).toMatchObject({ changed: true, changes: [{ field: `autoScalingGroups.${GROUP}`, from: 'InService', to: 'Detached' }], undo: { instanceId, groupName: GROUP, how: 'detached' } });
    expect(await readMembership(ctx, instanceId)).toBeUndefined();
    const contained = await readGroup(ctx);
    expect(contained.desired).toBe(2); // ShouldDecrementDesiredCapacity=false: the group replaced it
    expect(contained.members.map((member) => member.id)).not.toContain(instanceId);
    expect(contained.members).toHaveLength(2);
    expect(await standby.verify(ctx, none)).toMatchObject({ compliant: true });
    expect(await standby.run(ctx, none)).toMatchObject({ changed: false });

    const rolledBack = await standby.rollback?.(ctx, first.undo as StandbyInstanceUndo);

    expect(rolledBack).toMatchObject({ changed: true, changes: [{ field: `autoScalingGroups.${GROUP}`, from: 'Detached', to: 'InService' }] });
    expect(await readMembership(ctx, instanceId)).toEqual({ group: GROUP, state: 'InService' });
    // AttachInstances raises the desired capacity by the instances attached, as ExitStandby does.
    expect((await readGroup(ctx)).desired).toBe(3);
  });

  it('leaves an instance that was on Standby before the run alone, and records nothing to undo', async () => {
    const base = baseContext();
    const { instanceId, vpcId } = await groupWithInstances(base);
    await autoscaling(base).send(new EnterStandbyCommand({ AutoScalingGroupName: GROUP, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: true }));
    const ctx = onInstance(base, instanceId, vpcId);

    expect(await standby.plan(ctx, none)).toMatchObject({ compliant: true, changes: [] });
    const outcome = await standby.run(ctx, none);
    expect(outcome).toMatchObject({ changed: false, changes: [] });
    expect(outcome.undo).toBeUndefined();
    expect(await readMembership(ctx, instanceId)).toEqual({ group: GROUP, state: 'Standby' });
  });

  it('changes nothing for an instance in no Auto Scaling group, and its plan says so', async () => {
    const base = baseContext();
    const { Instances } = await ec2(base).send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
    const instanceId = Instances?.[0]?.InstanceId as string;
    const ctx = onInstance(base, instanceId);

    const plan = await standby.plan(ctx, none);
    expect(plan).toMatchObject({ compliant: true, changes: [], summary: `instance ${instanceId} is in no Auto Scaling group; nothing to take out` });
    const outcome = await standby.run(ctx, none);
    expect(outcome).toMatchObject({ changed: false, changes: [] });
    expect(outcome.undo).toBeUndefined();
    expect(await standby.verify(ctx, none)).toMatchObject({ compliant: true });
    expect(await readMembership(ctx, instanceId)).toBeUndefined();
  });

  it('runs with exactly its declared permissions under IAM enforcement: Standby, verify, rollback', async () => {
    const setup = baseContext();
    const { instanceId, vpcId } = await groupWithInstances(setup);
    const clients = await memberRoleWith(MEMBER, standbyInstance.permissions.member);
    await setIamEnforcement(true);
    try {
      const ctx = onInstance(baseContext(clients), instanceId, vpcId);
      const outcome = await standby.run(ctx, none);
      expect(outcome).toMatchObject({ changed: true });
      expect(await standby.verify(ctx, none)).toMatchObject({ compliant: true });
      expect(await standby.rollback?.(ctx, outcome.undo as StandbyInstanceUndo)).toMatchObject({ changed: true });

      // Enforcement is real: without autoscaling:EnterStandby the same run is denied (and does not fall back to detaching).
      await setIamEnforcement(false);
      await setMemberRolePermissions(
        MEMBER,
        standbyInstance.permissions.member.filter((permission) => permission !== 'autoscaling:EnterStandby'),
      );
      await setIamEnforcement(true);
      await expect(standby.run(ctx, none)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      await setIamEnforcement(false);
      expect(await readMembership(ctx, instanceId)).toEqual({ group: GROUP, state: 'InService' });
    } finally {
      await setIamEnforcement(false);
    }
  });
});

/*
 * Amazon EC2 Auto Scaling takes an instance out (Standby or detach) only while it is
 * InService. The emulator puts every instance in service at once, so these states are
 * given by aws-sdk-client-mock: the answers are AWS's documented shapes, and the test
 * asserts that no change is attempted.
 */
describe('autoscaling.standby-instance on an instance that is not InService (aws-sdk-client-mock: the emulator has no such state)', () => {
  beforeEach(() => resetEmulator());

  it.each([
    ['Pending:Wait', true],
    ['Terminating:Wait', false],
    ['Warmed:Running', false],
  ] as const)('%s: the plan says running would fail, run fails typed (retryable: %s) and calls neither EnterStandby nor DetachInstances', async (state, retryable) => {
    const mock = mockClient(AutoScalingClient);
    try {
      mock.on(DescribeAutoScalingInstancesCommand, { InstanceIds: ['i-0a1b2c3d4e5f60718'] }).resolves({
        AutoScalingInstances: [
          { InstanceId: 'i-0a1b2c3d4e5f60718', AutoScalingGroupName: GROUP, LifecycleState: state, AvailabilityZone: `${REGION}a`, HealthStatus: 'HEALTHY', ProtectedFromScaleIn: false },
        ],
      });
      const ctx = onInstance(baseContext(), 'i-0a1b2c3d4e5f60718');

      const plan = await standby.plan(ctx, none);
      expect(plan).toMatchObject({ compliant: false, changes: [] });
      expect(plan.summary).toContain(`is ${state} in Auto Scaling group ${GROUP}`);
      const failure = await standby.run(ctx, none).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AutoScalingInstanceUnprotectedError);
      expect(failure).toMatchObject({
        code: 'AUTOSCALING_INSTANCE_UNPROTECTED',
        retryable,
        lifecycleState: state,
        groupName: GROUP,
        context: { account: MEMBER, instanceId: 'i-0a1b2c3d4e5f60718', status: state },
      });
      expect(mock.commandCalls(EnterStandbyCommand)).toHaveLength(0);
      expect(mock.commandCalls(DetachInstancesCommand)).toHaveLength(0);
      expect(mock.commandCalls(ExitStandbyCommand)).toHaveLength(0);
      expect(mock.commandCalls(AttachInstancesCommand)).toHaveLength(0);
    } finally {
      mock.restore();
    }
  });
});
