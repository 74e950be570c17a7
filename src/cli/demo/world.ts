import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AssociateIamInstanceProfileCommand,
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

import type { AwsClientFactory, MemberClients } from '../../aws/index.js';
import { runLedgerTableProperties } from '../../ledger/index.js';
import { RESULT_EVENT_DETAIL_TYPE, RESULT_EVENT_SOURCE } from '../../pipeline/index.js';

export const REGION = 'us-east-1';
/** The first member account: the CIS story's, the exposed bastion's and the compromised instance's (as the example events name it). */
export const ACCOUNT_A = '111122223333';
/** The second member account: a default security group with rules and a weak password policy. */
export const ACCOUNT_B = '444455556666';
/** An AMI moto 5 ships (it does not check image ids unless told to). */
const AMI = 'ami-12c6146b';

export const memberTarget = (account: string, correlationId = 'demo'): { account: string; region: string; partition: 'aws'; correlationId: string } => ({
  account,
  region: REGION,
  partition: 'aws',
  correlationId,
});

/** What a deployment creates in the hosting account, on the emulator. */
export interface Hosting {
  readonly table: string;
  readonly topicArn: string;
  readonly bus: string;
  /** Where the result-event bus's rule delivers (the demo reads the events back from it). */
  readonly resultQueueUrl: string;
  readonly evidenceBucket: string;
  readonly findingsQueue: { readonly url: string; readonly arn: string };
  readonly resumeQueue: { readonly url: string; readonly arn: string };
}

async function queue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: Attributes?.QueueArn as string };
}

/** The ledger table, SNS topic, result-event bus (with a rule into a queue), evidence bucket, findings and resume queues. */
export async function createHosting(factory: AwsClientFactory): Promise<Hosting> {
  const table = 'riposte-demo-ledger';
  const properties = runLedgerTableProperties();
  const sqs = factory.create(SQSClient);
  const events = factory.create(EventBridgeClient);
  const bus = 'riposte-demo';
  const evidenceBucket = 'riposte-demo-evidence';
  const [, topic, results, findingsQueue, resumeQueue] = await Promise.all([
    factory
      .create(DynamoDBClient)
      .send(new CreateTableCommand({ TableName: table, KeySchema: [...properties.KeySchema], AttributeDefinitions: [...properties.AttributeDefinitions], BillingMode: properties.BillingMode })),
    factory.create(SNSClient).send(new CreateTopicCommand({ Name: 'riposte-demo' })),
    queue(sqs, 'riposte-demo-results'),
    queue(sqs, 'riposte-demo-findings'),
    queue(sqs, 'riposte-demo-resume'),
    factory.create(S3Client, {}, { forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: evidenceBucket })),
    events.send(new CreateEventBusCommand({ Name: bus })),
  ]);
  await events.send(new PutRuleCommand({ Name: 'results', EventBusName: bus, EventPattern: JSON.stringify({ source: [RESULT_EVENT_SOURCE], 'detail-type': [RESULT_EVENT_DETAIL_TYPE] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'results', EventBusName: bus, Targets: [{ Id: 'queue', Arn: results.arn }] }));
  return { table, topicArn: topic.TopicArn as string, bus, resultQueueUrl: results.url, evidenceBucket, findingsQueue, resumeQueue };
}

/** An instance, as the demo made it. */
export interface DemoInstance {
  readonly account: string;
  readonly instanceId: string;
  readonly vpcId: string;
  /** The groups each interface had, by interface id. */
  readonly interfaces: Readonly<Record<string, readonly string[]>>;
  readonly volumeIds: readonly string[];
  readonly profileArn?: string;
}

/** The problems of both member accounts. */
export interface World {
  /** A bastion in account A whose security group lets SSH in from anywhere. */
  readonly bastion: DemoInstance & { readonly sshGroupId: string };
  /** An instance in account A with two interfaces, two volumes and an instance profile: what GuardDuty reports. */
  readonly compromised: DemoInstance & { readonly roleName: string };
  /** The default security group of a VPC in account B, with rules added. */
  readonly defaultGroup: { readonly account: string; readonly groupId: string; readonly vpcId: string };
}

async function network(ec2: EC2Client, cidr: string, subnetCidr: string): Promise<{ vpcId: string; subnetId: string }> {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc?.VpcId as string;
  const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: subnetCidr, AvailabilityZone: 'us-east-1b' }))).Subnet?.SubnetId as string;
  return { vpcId, subnetId };
}

async function group(ec2: EC2Client, vpcId: string, name: string, description: string): Promise<string> {
  return (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: description }))).GroupId as string;
}

/** One t3.micro instance in `subnetId`, its primary interface in `groups`, named `name`. */
async function launch(ec2: EC2Client, subnetId: string, groups: string[], name: string): Promise<Instance | undefined> {
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: groups }],
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: name }] }],
    }),
  );
  return Instances?.[0];
}
/** Account A: the bastion with SSH open to the world. */
async function bastion(ec2: EC2Client): Promise<World['bastion']> {
  const { vpcId, subnetId } = await network(ec2, '10.40.0.0/16', '10.40.1.0/24');
  const sshGroupId = await group(ec2, vpcId, 'bastion-legacy-sg', 'legacy bastion access');
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sshGroupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.40.0.0/16' }] },
      ],
    }),
  );
  const instance = await launch(ec2, subnetId, [sshGroupId], 'bastion-legacy');
  return {
    account: ACCOUNT_A,
    instanceId: instance?.InstanceId as string,
    vpcId,
    interfaces: { [instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string]: [sshGroupId] },
    volumeIds: [instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId as string],
    sshGroupId,
  };
}

/** Account A: an instance with two interfaces (primary in `web`, secondary in `admin` and `web`), two volumes and the instance profile the GuardDuty example names. */
async function compromised(ec2: EC2Client, iam: IAMClient): Promise<World['compromised']> {
  const { vpcId, subnetId } = await network(ec2, '10.20.0.0/16', '10.20.3.0/24');
  const web = await group(ec2, vpcId, 'web', 'web servers');
  const admin = await group(ec2, vpcId, 'admin', 'admin access');
  const instance = await launch(ec2, subnetId, [web], 'web-prod-1');
  const instanceId = instance?.InstanceId as string;
  const primary = instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
  const secondary = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [admin, web] }))).NetworkInterface?.NetworkInterfaceId as string;
  await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: secondary, InstanceId: instanceId, DeviceIndex: 1 }));
  const rootVolume = instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId as string;
  const { VolumeId: dataVolume } = await ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: instance?.Placement?.AvailabilityZone,
      Size: 10,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'web-prod-1-data' }] }],
    }),
  );
  await ec2.send(new AttachVolumeCommand({ VolumeId: dataVolume, InstanceId: instanceId, Device: '/dev/sdf' }));

  const roleName = 'web-prod';
  await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }),
  );
  const { InstanceProfile } = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'web-prod-instance-profile' }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web-prod-instance-profile', RoleName: roleName }));
  await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: InstanceProfile?.Arn as string } }));
  return {
    account: ACCOUNT_A,
    instanceId,
    vpcId,
    interfaces: { [primary]: [web], [secondary]: [admin, web] },
    volumeIds: [rootVolume, dataVolume as string],
    profileArn: InstanceProfile?.Arn as string,
    roleName,
  };
}

/** Account B: a VPC whose default security group lets everything in from itself and RDP from anywhere (and, as AWS makes it, everything out). */
async function defaultGroup(ec2: EC2Client): Promise<World['defaultGroup']> {
  const { vpcId } = await network(ec2, '10.60.0.0/16', '10.60.1.0/24');
  const { SecurityGroups } = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: ['default'] },
      ],
    }),
  );
  const groupId = SecurityGroups?.[0]?.GroupId as string;
  // AWS's default group references itself; moto's lacks that rule, so it is added here with the RDP rule someone added later.
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] },
        { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
  return { account: ACCOUNT_B, groupId, vpcId };
}

/** Both member accounts' problems (reached by AssumeRole, as Riposte reaches them), the password policies included. */
export async function createWorld(clients: MemberClients): Promise<World> {
  const [a, b] = [memberTarget(ACCOUNT_A), memberTarget(ACCOUNT_B)];
  const ec2A = clients.create(EC2Client, a);
  const iamA = clients.create(IAMClient, a);
  const [made, , , groupB] = await Promise.all([
    Promise.all([bastion(ec2A), compromised(ec2A, iamA)]),
    iamA.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true })),
    clients.create(IAMClient, b).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 10, RequireUppercaseCharacters: true, MaxPasswordAge: 365 })),
    defaultGroup(clients.create(EC2Client, b)),
  ]);
  return { bastion: made[0], compromised: made[1], defaultGroup: groupB };
}
