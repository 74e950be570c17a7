import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';

import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';

/**
 * What the launcher (src/emulator/moto_riposte.py, section "EC2 instance security groups")
 * changes in moto, checked against the Amazon EC2 User Guide through the SDK, for an instance
 * launched with security groups (as an Auto Scaling group's launch template launches them).
 * If the launcher drifts from it, the test fails.
 *
 * "Security groups for your EC2 instances": "Security groups are associated with network
 * interfaces. Changing an instance's security groups changes the security groups associated
 * with the primary network interface (eth0)."
 */

const ec2 = (): EC2Client => emulatorClientFactory().create(EC2Client);

async function instanceInGroup(): Promise<{ instanceId: string; eniId: string; web: string; other: string }> {
  const { Vpc } = await ec2().send(new CreateVpcCommand({ CidrBlock: '10.61.0.0/16' }));
  const { Subnet } = await ec2().send(new CreateSubnetCommand({ VpcId: Vpc?.VpcId, CidrBlock: '10.61.1.0/24' }));
  const group = async (name: string) => (await ec2().send(new CreateSecurityGroupCommand({ VpcId: Vpc?.VpcId, GroupName: name, Description: name }))).GroupId as string;
  const [web, other] = await Promise.all([group('web'), group('other')]);
  const { Instances } = await ec2().send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: Subnet?.SubnetId, SecurityGroupIds: [web] }));
  return { instanceId: Instances?.[0]?.InstanceId as string, eniId: Instances?.[0]?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string, web, other };
}

/** The groups as the instance, its primary interface, and the instance attribute each answer them. */
async function groupsSeen(instanceId: string, eniId: string) {
  const [{ Reservations }, { NetworkInterfaces }, attribute] = await Promise.all([
    ec2().send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
    ec2().send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })),
    ec2().send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'groupSet' })),
  ]);
  const instance = Reservations?.[0]?.Instances?.[0];
  return {
    instance: (instance?.SecurityGroups ?? []).map((group) => group.GroupId),
    instanceInterface: (instance?.NetworkInterfaces?.[0]?.Groups ?? []).map((group) => group.GroupId),
    networkInterface: (NetworkInterfaces?.[0]?.Groups ?? []).map((group) => group.GroupId),
    attribute: (attribute.Groups ?? []).map((group) => group.GroupId),
  };
}

beforeEach(async () => {
  await resetEmulator();
});

describe('emulated instance security groups: an instance’s groups are its primary network interface’s', () => {
  it('moves the instance out of its launch group when its primary interface is moved (ModifyNetworkInterfaceAttribute)', async () => {
    const { instanceId, eniId, web, other } = await instanceInGroup();
    expect(await groupsSeen(instanceId, eniId)).toEqual({ instance: [web], instanceInterface: [web], networkInterface: [web], attribute: [web] });

    await ec2().send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [other] }));

    expect(await groupsSeen(instanceId, eniId)).toEqual({ instance: [other], instanceInterface: [other], networkInterface: [other], attribute: [other] });
  });

  it('moves its primary interface when the instance’s groups are changed (ModifyInstanceAttribute)', async () => {
    const { instanceId, eniId, web, other } = await instanceInGroup();

    await ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [other] }));
    expect(await groupsSeen(instanceId, eniId)).toEqual({ instance: [other], instanceInterface: [other], networkInterface: [other], attribute: [other] });

    await ec2().send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [web, other] }));
    expect(await groupsSeen(instanceId, eniId)).toEqual({ instance: [web, other], instanceInterface: [web, other], networkInterface: [web, other], attribute: [web, other] });
  });
});
