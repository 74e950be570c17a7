import { CreateSubnetCommand, CreateVpcCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand, DescribeLoadBalancersCommand, ElasticLoadBalancingClient, RegisterInstancesWithLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type CreateTargetGroupCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';

import { deregisterInstance, type DeregisterInstanceUndo } from '../../src/actions/elb-deregister-instance.js';
import type { ActionBehaviour, ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { memberRoleWith, setIamEnforcement, setMemberRolePermissions } from '../support/least-privilege.js';

const MEMBER = '222222222222';
const REGION = 'us-east-1';
/** One of the AMIs moto ships in every region. */
const AMI = 'ami-12c6146b';

type NoParams = Record<string, never>;
const deregister = deregisterInstance.behaviour as ActionBehaviour<NoParams, DeregisterInstanceUndo>;
const none: NoParams = {};

// ---- helpers (this file only) ----------------------------------------------

const baseContext = (clients?: Parameters<typeof actionContext>[2]): ActionContext => actionContext('guardduty-ec2-backdoor.json', MEMBER, clients);
const ec2 = (ctx: ActionContext) => ctx.clients.create(EC2Client, ctx.target);
const elbv2 = (ctx: ActionContext) => ctx.clients.create(ElasticLoadBalancingV2Client, ctx.target);
const elb = (ctx: ActionContext) => ctx.clients.create(ElasticLoadBalancingClient, ctx.target);
const onInstance = (ctx: ActionContext, instanceId: string, vpcId: string): ActionContext => ({ ...ctx, resource: { ...ctx.resource, instanceId, vpcId } });

interface Estate {
  readonly vpcId: string;
  readonly suspect: string;
  readonly neighbour: string;
  readonly web: string;
  readonly admin: string;
  readonly byAddress: string;
}

/**
 * A VPC with two instances behind load balancers: `web` (port 80) has the suspect on
 * 80 and again on 8080, and the neighbour on 80; `admin` (port 8443) has the suspect
 * with a port override, 9000; `byAddress` is an ip-type group holding an address; the
 * classic `legacy-web` lists both instances, `legacy-api` the neighbour only.
 */
async function estate(ctx: ActionContext): Promise<Estate> {
  const { Vpc } = await ec2(ctx).send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }));
  const vpcId = Vpc?.VpcId as string;
  const { Subnet } = await ec2(ctx).send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.40.1.0/24', AvailabilityZone: `${REGION}a` }));
  const subnetId = Subnet?.SubnetId as string;
  const { Instances = [] } = await ec2(ctx).send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 2, MaxCount: 2, SubnetId: subnetId }));
  const [suspect, neighbour] = Instances.map((instance) => instance.InstanceId as string) as [string, string];
  const group = async (name: string, extra: Partial<CreateTargetGroupCommandInput>): Promise<string> => {
    const { TargetGroups } = await elbv2(ctx).send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'instance', ...extra }));
    return TargetGroups?.[0]?.TargetGroupArn as string;
  };
  const [web, admin, byAddress] = await Promise.all([group('web', {}), group('admin', { Protocol: 'HTTPS', Port: 8443 }), group('by-address', { TargetType: 'ip' })]);
  await elbv2(ctx).send(new RegisterTargetsCommand({ TargetGroupArn: web, Targets: [{ Id: suspect }, { Id: suspect, Port: 8080 }, { Id: neighbour }] }));
  await elbv2(ctx).send(new RegisterTargetsCommand({ TargetGroupArn: admin, Targets: [{ Id: suspect, Port: 9000 }] }));
  await elbv2(ctx).send(new RegisterTargetsCommand({ TargetGroupArn: byAddress, Targets: [{ Id: '10.40.1.10', Port: 80 }] }));
  for (const name of ['legacy-web', 'legacy-api']) {
    await elb(ctx).send(new CreateLoadBalancerCommand({ LoadBalancerName: name, Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstancePort: 80 }], Subnets: [subnetId] }));
  }
  await elb(ctx).send(new RegisterInstancesWithLoadBalancerCommand({ LoadBalancerName: 'legacy-web', Instances: [{ InstanceId: suspect }, { InstanceId: neighbour }] }));
  await elb(ctx).send(new RegisterInstancesWithLoadBalancerCommand({ LoadBalancerName: 'legacy-api', Instances: [{ InstanceId: neighbour }] }));
  return { vpcId, suspect, neighbour, web, admin, byAddress };
}

/** A target group's registrations as DescribeTargetHealth reads them back: `id:port`, sorted. */
async function readTargets(ctx: ActionContext, targetGroupArn: string): Promise<string[]> {
  const { TargetHealthDescriptions = [] } = await elbv2(ctx).send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return TargetHealthDescriptions.map((target) => `${target.Target?.Id}:${target.Target?.Port}`).sort();
}

/** The instances each classic load balancer lists. */
async function readClassic(ctx: ActionContext): Promise<Record<string, string[]>> {
  const { LoadBalancerDescriptions = [] } = await elb(ctx).send(new DescribeLoadBalancersCommand({}));
  return Object.fromEntries(LoadBalancerDescriptions.map((balancer) => [balancer.LoadBalancerName as string, (balancer.Instances ?? []).map((instance) => instance.InstanceId as string).sort()]));
}

async function readAll(ctx: ActionContext, state: Estate): Promise<{ web: string[]; admin: string[]; byAddress: string[]; classic: Record<string, string[]> }> {
  const [web, admin, byAddress, classic] = await Promise.all([readTargets(ctx, state.web), readTargets(ctx, state.admin), readTargets(ctx, state.byAddress), readClassic(ctx)]);
  return { web, admin, byAddress, classic };
}

// ---- tests ------------------------------------------------------------------

describe('elb.deregister-instance against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('deregisters the instance from each target group on every port and from each classic load balancer, changes nothing the second time, and re-registers the same ports on rollback', async () => {
    const base = baseContext();
    const state = await estate(base);
    const ctx = onInstance(base, state.suspect, state.vpcId);
    const before = await readAll(ctx, state);
    expect(before.web).toEqual([`${state.neighbour}:80`, `${state.suspect}:80`, `${state.suspect}:8080`].sort());

    const plan = await deregister.plan(ctx, none);
    expect(plan).toMatchObject({ action: 'elb.deregister-instance', resource: `arn:aws:ec2:${REGION}:${MEMBER}:instance/${state.suspect}`, compliant: false });
    expect(plan.changes).toEqual(
      expect.arrayContaining([
        { field: `targetGroups.${state.web}`, from: [80, 8080], to: [] },
        { field: `targetGroups.${state.admin}`, from: [9000], to: [] },
        { field: 'classicLoadBalancers.legacy-web', from: 'registered', to: 'deregistered' },
      ]),
    );
    expect(plan.changes).toHaveLength(3);
    expect(await readAll(ctx, state)).toEqual(before); // the plan changed nothing

    const first = await deregister.run(ctx, none);

    expect(first).toMatchObject({ changed: true });
    expect(first.undo).toEqual({
      instanceId: state.suspect,
      targetGroups: expect.arrayContaining([
        { targetGroupArn: state.web, ports: [80, 8080] },
        { targetGroupArn: state.admin, ports: [9000] },
      ]) as unknown,
      classicLoadBalancers: ['legacy-web'],
    });
    const contained = await readAll(ctx, state);
    // Only the suspect left: the neighbour, the ip-type group and the other classic balancer are untouched.
    expect(contained).toEqual({ web: [`${state.neighbour}:80`], admin: [], byAddress: before.byAddress, classic: { 'legacy-web': [state.neighbour], 'legacy-api': [state.neighbour] } });
    expect(await deregister.verify(ctx, none)).toMatchObject({ compliant: true });

    const second = await deregister.run(ctx, none);
    expect(second).toMatchObject({ changed: false, changes: [], summary: `instance ${state.suspect}: registered with no target group or classic load balancer; nothing changed` });
    expect(second.undo).toBeUndefined();
    expect(await readAll(ctx, state)).toEqual(contained);

    const rolledBack = await deregister.rollback?.(ctx, first.undo as DeregisterInstanceUndo);

    expect(rolledBack).toMatchObject({ changed: true });
    // The same ports: 80 and 8080 in web, the 9000 override in admin (not the group's 8443); listed once in legacy-web.
    expect(await readAll(ctx, state)).toEqual(before);
    expect(await deregister.rollback?.(ctx, first.undo as DeregisterInstanceUndo)).toMatchObject({ changed: false });
  });

  it('rolls back what it can when a target group was deleted since, and names the one it cannot', async () => {
    const base = baseContext();
    const state = await estate(base);
    const ctx = onInstance(base, state.suspect, state.vpcId);
    const first = await deregister.run(ctx, none);
    await elbv2(ctx).send(new DeleteTargetGroupCommand({ TargetGroupArn: state.admin }));

    const rolledBack = await deregister.rollback?.(ctx, first.undo as DeregisterInstanceUndo);

    expect(rolledBack).toMatchObject({ changed: true });
    expect(rolledBack?.summary).toContain(`deleted since, not restored: ${state.admin}`);
    expect(await readTargets(ctx, state.web)).toEqual([`${state.neighbour}:80`, `${state.suspect}:80`, `${state.suspect}:8080`].sort());
  });

  it('changes nothing for an instance no load balancer names, and its plan says so', async () => {
    const base = baseContext();
    const state = await estate(base);
    const { Instances } = await ec2(base).send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
    const loner = Instances?.[0]?.InstanceId as string;
    const ctx = onInstance(base, loner, state.vpcId);
    const before = await readAll(ctx, state);

    expect(await deregister.plan(ctx, none)).toMatchObject({
      compliant: true,
      changes: [],
      summary: `instance ${loner}: registered with no target group or classic load balancer; nothing to deregister`,
    });
    const outcome = await deregister.run(ctx, none);
    expect(outcome).toMatchObject({ changed: false, changes: [] });
    expect(outcome.undo).toBeUndefined();
    expect(await deregister.verify(ctx, none)).toMatchObject({ compliant: true });
    expect(await readAll(ctx, state)).toEqual(before);
  });

  it('runs with exactly its declared permissions under IAM enforcement: plan, run, verify, rollback', async () => {
    const setup = baseContext();
    const state = await estate(setup);
    const before = await readAll(setup, state);
    const clients = await memberRoleWith(MEMBER, deregisterInstance.permissions.member);
    await setIamEnforcement(true);
    try {
      const ctx = onInstance(baseContext(clients), state.suspect, state.vpcId);
      expect(await deregister.plan(ctx, none)).toMatchObject({ compliant: false });
      const outcome = await deregister.run(ctx, none);
      expect(outcome).toMatchObject({ changed: true });
      expect(await deregister.verify(ctx, none)).toMatchObject({ compliant: true });
      expect(await deregister.rollback?.(ctx, outcome.undo as DeregisterInstanceUndo)).toMatchObject({ changed: true });

      // Enforcement is real: without elasticloadbalancing:DeregisterTargets the run is denied.
      await setIamEnforcement(false);
      await setMemberRolePermissions(
        MEMBER,
        deregisterInstance.permissions.member.filter((permission) => permission !== 'elasticloadbalancing:DeregisterTargets'),
      );
      await setIamEnforcement(true);
      await expect(deregister.run(ctx, none)).rejects.toMatchObject({
        code: 'ELB_DEREGISTRATION_INCOMPLETE',
        failed: [state.admin, state.web],
        done: ['classic load balancer legacy-web'],
        retryable: false,
      });
      await setIamEnforcement(false);
      const partial = await readAll(setup, state);
      // The classic load balancer's deregistration went through; the error names it as done.
      expect(partial.classic['legacy-web']).toEqual([state.neighbour]);
      expect(partial.web).toEqual(before.web);
    } finally {
      await setIamEnforcement(false);
    }
  });
});
