import { CreateVpcCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand, DeregisterTargetsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';

import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';

/**
 * What the launcher (src/emulator/moto_riposte.py, section "Elastic Load Balancing v2")
 * changes in moto's target groups, checked against the Elastic Load Balancing API
 * reference through the SDK. Each documented fact a test relies on is quoted with its
 * page; if the launcher drifts from it, the test fails.
 */

/** One of the AMIs moto ships in every region. */
const AMI = 'ami-12c6146b';
const elbv2 = (): ElasticLoadBalancingV2Client => emulatorClientFactory().create(ElasticLoadBalancingV2Client);
const ec2 = (): EC2Client => emulatorClientFactory().create(EC2Client);

async function groupWithInstance(): Promise<{ targetGroupArn: string; instanceId: string }> {
  const { Vpc } = await ec2().send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }));
  const { Instances } = await ec2().send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
  const { TargetGroups } = await elbv2().send(new CreateTargetGroupCommand({ Name: 'web', Protocol: 'HTTP', Port: 80, VpcId: Vpc?.VpcId, TargetType: 'instance' }));
  return { targetGroupArn: TargetGroups?.[0]?.TargetGroupArn as string, instanceId: Instances?.[0]?.InstanceId as string };
}

async function registered(targetGroupArn: string): Promise<string[]> {
  const { TargetHealthDescriptions = [] } = await elbv2().send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return TargetHealthDescriptions.map((target) => `${target.Target?.Id}:${target.Target?.Port}`).sort();
}

beforeEach(async () => {
  await resetEmulator();
});

describe('emulated target groups: a target is an instance id and a port', () => {
  it('holds one instance on several ports of one group, each listed by DescribeTargetHealth', async () => {
    const { targetGroupArn, instanceId } = await groupWithInstance();

    // API_RegisterTargets: "You can register each EC2 instance or IP address with the same target group multiple times using different ports."
    await elbv2().send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }, { Id: instanceId, Port: 8080 }] }));

    // Without a port, the group's own (80): "By default, the load balancer routes requests to registered targets using the protocol and port for the target group."
    expect(await registered(targetGroupArn)).toEqual([`${instanceId}:80`, `${instanceId}:8080`]);
  });

  it('deregisters a target registered with a port override only by its id and that port', async () => {
    const { targetGroupArn, instanceId } = await groupWithInstance();
    await elbv2().send(
      new RegisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: [
          { Id: instanceId, Port: 8080 },
          { Id: instanceId, Port: 9000 },
        ],
      }),
    );

    // API_DeregisterTargets, Targets: "If you specified a port override when you registered a target, you must specify both the target ID and the port when you deregister it."
    // Without the port the target named is the one on the group's port, which is not registered: InvalidTarget, and nothing is removed.
    await expect(elbv2().send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }))).rejects.toMatchObject({ name: 'InvalidTargetException' });
    expect(await registered(targetGroupArn)).toEqual([`${instanceId}:8080`, `${instanceId}:9000`]);

    await elbv2().send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: 8080 }] }));
    expect(await registered(targetGroupArn)).toEqual([`${instanceId}:9000`]);
    // TargetHealth: Target.NotRegistered - "The target is not registered with the target group."
    const { TargetHealthDescriptions } = await elbv2().send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: 8080 }] }));
    expect(TargetHealthDescriptions).toMatchObject([{ Target: { Id: instanceId, Port: 8080 }, TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered' } }]);
  });
});
