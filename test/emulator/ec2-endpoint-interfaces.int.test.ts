import { CreateSubnetCommand, CreateVpcCommand, CreateVpcEndpointCommand, DescribeNetworkInterfacesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';

import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';

/**
 * What the launcher (src/emulator/moto_riposte.py, section "EC2 VPC endpoint network
 * interfaces") changes in moto, checked against the Amazon EC2 API reference through the SDK.
 * If the launcher drifts from it, the test fails.
 *
 * NetworkInterface: "InterfaceType — The type of network interface." (valid values include
 * `vpc_endpoint`); "RequesterManaged — Indicates whether the network interface is being managed
 * by AWS." DescribeNetworkInterfaces filters: "interface-type - The type of network interface"
 * and "requester-managed - Indicates whether the network interface is being managed by an AWS
 * service".
 */

const ec2 = (): EC2Client => emulatorClientFactory().create(EC2Client);

beforeEach(async () => {
  await resetEmulator();
});

describe('emulated VPC endpoint network interfaces', () => {
  it('are typed vpc_endpoint, managed by AWS and described by their endpoint, and the interface-type and requester-managed filters find them and only them', async () => {
    const { Vpc } = await ec2().send(new CreateVpcCommand({ CidrBlock: '10.62.0.0/16' }));
    const { Subnet } = await ec2().send(new CreateSubnetCommand({ VpcId: Vpc?.VpcId, CidrBlock: '10.62.1.0/24' }));
    const { VpcEndpoint } = await ec2().send(
      new CreateVpcEndpointCommand({ VpcId: Vpc?.VpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ssm', SubnetIds: [Subnet?.SubnetId as string] }),
    );
    const { Instances } = await ec2().send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: Subnet?.SubnetId }));
    const endpointInterface = VpcEndpoint?.NetworkInterfaceIds?.[0] as string;
    const instanceInterface = Instances?.[0]?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;

    const { NetworkInterfaces: [described] = [] } = await ec2().send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [endpointInterface] }));
    expect(described).toMatchObject({ InterfaceType: 'vpc_endpoint', RequesterManaged: true, Description: `VPC Endpoint Interface ${VpcEndpoint?.VpcEndpointId as string}` });

    const found = async (name: string, value: string) =>
      (
        (
          await ec2().send(
            new DescribeNetworkInterfacesCommand({
              Filters: [
                { Name: 'vpc-id', Values: [Vpc?.VpcId as string] },
                { Name: name, Values: [value] },
              ],
            }),
          )
        ).NetworkInterfaces ?? []
      ).map((eni) => eni.NetworkInterfaceId);
    expect(await found('interface-type', 'vpc_endpoint')).toEqual([endpointInterface]);
    expect(await found('requester-managed', 'true')).toEqual([endpointInterface]);
    expect(await found('interface-type', 'interface')).toEqual([instanceInterface]);
    expect(await found('requester-managed', 'false')).toEqual([instanceInterface]);
  });
});
