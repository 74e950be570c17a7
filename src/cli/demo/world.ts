import { AttachInstancesCommand, AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AssociateIamInstanceProfileCommand,
  AttachNetworkInterfaceCommand,
  AttachVolumeCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateNetworkInterfaceCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeNetworkInterfacesCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, EnableKeyRotationCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

import { builtInActions, memberRoleTemplate } from '../../actions/index.js';
import type { AwsClientFactory, MemberClients } from '../../aws/index.js';
import { createEvidenceBucket } from '../../emulator/index.js';
import { runLedgerTableProperties } from '../../ledger/index.js';
import { RESULT_EVENT_DETAIL_TYPE, RESULT_EVENT_SOURCE } from '../../pipeline/index.js';
import * as z from '../../zod.js';

export const REGION = 'us-east-1';
/** The first member account: the CIS story's, the exposed bastion's and the compromised instance's (as the example events name it). */
export const ACCOUNT_A = '111122223333';
/** The second member account: a default security group with rules and a weak password policy. */
export const ACCOUNT_B = '444455556666';
/** The deployment's forensics account (RIPOSTE_FORENSICS_ACCOUNT): no member, it receives the evidence snapshots shared with it. */
export const FORENSICS_ACCOUNT = '999988887777';
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
  /** The asymmetric KMS key (ECC_NIST_P256, sign and verify) that signs each run's evidence manifest, as the stack's EvidenceSigningKey. */
  readonly evidenceSigningKey: string;
  readonly findingsQueue: { readonly url: string; readonly arn: string };
  readonly resumeQueue: { readonly url: string; readonly arn: string };
}

async function queue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: Attributes?.QueueArn as string };
}

/** The ledger table, SNS topic, result-event bus (with a rule into a queue), evidence bucket and its signing key, findings and resume queues. */
export async function createHosting(factory: AwsClientFactory): Promise<Hosting> {
  const table = 'riposte-demo-ledger';
  const properties = runLedgerTableProperties();
  const sqs = factory.create(SQSClient);
  const events = factory.create(EventBridgeClient);
  const bus = 'riposte-demo';
  const evidenceBucket = 'riposte-demo-evidence';
  const [, topic, results, findingsQueue, resumeQueue, , , signingKey] = await Promise.all([
    factory
      .create(DynamoDBClient)
      .send(new CreateTableCommand({ TableName: table, KeySchema: [...properties.KeySchema], AttributeDefinitions: [...properties.AttributeDefinitions], BillingMode: properties.BillingMode })),
    factory.create(SNSClient).send(new CreateTopicCommand({ Name: 'riposte-demo' })),
    queue(sqs, 'riposte-demo-results'),
    queue(sqs, 'riposte-demo-findings'),
    queue(sqs, 'riposte-demo-resume'),
    createEvidenceBucket(factory.create(S3Client, {}, { forcePathStyle: true }), evidenceBucket),
    events.send(new CreateEventBusCommand({ Name: bus })),
    factory.create(KMSClient).send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'Riposte demo: signs each run’s evidence manifest' })),
  ]);
  await events.send(new PutRuleCommand({ Name: 'results', EventBusName: bus, EventPattern: JSON.stringify({ source: [RESULT_EVENT_SOURCE], 'detail-type': [RESULT_EVENT_DETAIL_TYPE] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'results', EventBusName: bus, Targets: [{ Id: 'queue', Arn: results.arn }] }));
  const evidenceSigningKey = signingKey.KeyMetadata?.Arn as string;
  return { table, topicArn: topic.TopicArn as string, bus, resultQueueUrl: results.url, evidenceBucket, evidenceSigningKey, findingsQueue, resumeQueue };
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
  /** What the readback prints beside an address, prefix list or key it knows: `10.20.3.4/32` → `ssm endpoint`. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The compromised instance's place in its web tier: its Auto Scaling group, target group and the VPC's Systems Manager endpoints. */
export interface WebTier {
  readonly autoScalingGroupName: string;
  readonly targetGroupName: string;
  readonly targetGroupArn: string;
  /** The Systems Manager interface endpoints' addresses (`/32`), by service, and the Region's S3 prefix list (the gateway endpoint's). */
  readonly endpoints: Readonly<Record<'ssm' | 'ssmmessages' | 'ec2messages', readonly string[]>> & { readonly s3PrefixList: string };
}

/** What the member template creates in a member account for the forensics account: the forensics key and the forensic collection profile. */
export interface Forensics {
  /** The forensics account (RIPOSTE_FORENSICS_ACCOUNT). */
  readonly account: string;
  /** The member account's key under alias/riposte-forensics. */
  readonly keyArn: string;
  readonly keyAlias: string;
  readonly collectionProfileArn: string;
}

/** The problems of both member accounts. */
export interface World {
  /** A bastion in account A whose security group lets SSH in from anywhere. */
  readonly bastion: DemoInstance & { readonly sshGroupId: string };
  /**
   * An instance in account A with two interfaces, two volumes (the data volume encrypted) and an instance profile, in an Auto Scaling
   * group behind a target group, its SSM agent online: what GuardDuty reports.
   */
  readonly compromised: DemoInstance & WebTier & { readonly roleName: string };
  /** The default security group of a VPC in account B, with rules added. */
  readonly defaultGroup: { readonly account: string; readonly groupId: string; readonly vpcId: string };
  /** Account A's forensics key and collection profile, as the member template creates them. */
  readonly forensics: Forensics;
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

/**
 * Systems Manager's interface endpoints (ssm, ssmmessages, ec2messages, private DNS on) in `subnetId` and S3's gateway endpoint
 * in the VPC: what lets an isolated instance's agent still reach Systems Manager, and nothing else.
 */
async function ssmEndpoints(ec2: EC2Client, vpcId: string, subnetId: string): Promise<WebTier['endpoints']> {
  const services = ['ssm', 'ssmmessages', 'ec2messages'] as const;
  const created = await Promise.all(
    services.map((service) =>
      ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: `com.amazonaws.${REGION}.${service}`, SubnetIds: [subnetId], PrivateDnsEnabled: true })),
    ),
  );
  const routeTableId = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable?.RouteTableId as string;
  await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Gateway', ServiceName: `com.amazonaws.${REGION}.s3`, RouteTableIds: [routeTableId] }));
  const addresses = await Promise.all(
    created.map(async ({ VpcEndpoint }) => {
      const { NetworkInterfaces = [] } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: VpcEndpoint?.NetworkInterfaceIds ?? [] }));
      return NetworkInterfaces.map((eni) => `${eni.PrivateIpAddress as string}/32`).sort();
    }),
  );
  const { PrefixLists = [] } = await ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${REGION}.s3`] }] }));
  return {
    ssm: addresses[0] ?? [],
    ssmmessages: addresses[1] ?? [],
    ec2messages: addresses[2] ?? [],
    s3PrefixList: PrefixLists[0]?.PrefixListId ?? '(no S3 prefix list)',
  };
}

/** The emulator's device for a managed node (src/emulator/moto_riposte.py): an instance with this tag is Online in Systems Manager. */
const SSM_PING_STATUS_TAG = 'riposte-emulator:ssm-ping-status';

/**
 * Account A: web-prod-1, one of the web tier's instances: in the Auto Scaling group web-prod-asg (launch template `web` group; the
 * group launched its neighbour, web-prod-1 was attached to it) and the target group web-prod on port 80, with two interfaces
 * (primary in `web`, secondary in `admin` and `web`), a root volume and a data volume encrypted under the AWS managed EBS key, the
 * instance profile the GuardDuty example names, and its SSM agent online; its VPC has Systems Manager's endpoints.
 */
async function compromised(clients: MemberClients, target: ReturnType<typeof memberTarget>): Promise<World['compromised']> {
  const ec2 = clients.create(EC2Client, target);
  const iam = clients.create(IAMClient, target);
  const { vpcId, subnetId } = await network(ec2, '10.20.0.0/16', '10.20.3.0/24');
  const [web, admin, endpoints] = await Promise.all([group(ec2, vpcId, 'web', 'web servers'), group(ec2, vpcId, 'admin', 'admin access'), ssmEndpoints(ec2, vpcId, subnetId)]);
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.20.0.0/16' }] }] }));
  const instance = await launch(ec2, subnetId, [web], 'web-prod-1');
  const instanceId = instance?.InstanceId as string;
  const primary = instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
  const secondary = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [admin, web] }))).NetworkInterface?.NetworkInterfaceId as string;
  await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: secondary, InstanceId: instanceId, DeviceIndex: 1 }));
  const rootVolume = instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId as string;
  // Encrypted with no key named: under the AWS managed key aws/ebs, whose snapshots cannot be shared (so Riposte copies them).
  const { VolumeId: dataVolume } = await ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: instance?.Placement?.AvailabilityZone,
      Size: 10,
      Encrypted: true,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'web-prod-1-data' }] }],
    }),
  );
  await ec2.send(new AttachVolumeCommand({ VolumeId: dataVolume, InstanceId: instanceId, Device: '/dev/sdf' }));
  await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: SSM_PING_STATUS_TAG, Value: 'Online' }] }));

  // The web tier: a group of one launched from the template, web-prod-1 attached to it (AttachInstances raises the desired capacity), both behind web-prod:80.
  const autoScalingGroupName = 'web-prod-asg';
  await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web-prod', LaunchTemplateData: { ImageId: AMI, InstanceType: 't3.micro', SecurityGroupIds: [web] } }));
  const autoscaling = clients.create(AutoScalingClient, target);
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: autoScalingGroupName,
      LaunchTemplate: { LaunchTemplateName: 'web-prod', Version: '$Latest' },
      MinSize: 1,
      MaxSize: 4,
      DesiredCapacity: 1,
      VPCZoneIdentifier: subnetId,
      HealthCheckType: 'ELB',
    }),
  );
  await autoscaling.send(new AttachInstancesCommand({ AutoScalingGroupName: autoScalingGroupName, InstanceIds: [instanceId] }));
  const elbv2 = clients.create(ElasticLoadBalancingV2Client, target);
  const targetGroupName = 'web-prod';
  const { TargetGroups } = await elbv2.send(new CreateTargetGroupCommand({ Name: targetGroupName, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'instance' }));
  const targetGroupArn = TargetGroups?.[0]?.TargetGroupArn as string;
  await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }));

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
  const labels: Record<string, string> = { [endpoints.s3PrefixList]: 'S3 gateway endpoint' };
  for (const service of ['ssm', 'ssmmessages', 'ec2messages'] as const) for (const address of endpoints[service]) labels[address] = `${service} endpoint`;
  return {
    account: ACCOUNT_A,
    instanceId,
    vpcId,
    interfaces: { [primary]: [web], [secondary]: [admin, web] },
    volumeIds: [rootVolume, dataVolume as string],
    profileArn: InstanceProfile?.Arn as string,
    roleName,
    autoScalingGroupName,
    targetGroupName,
    targetGroupArn,
    endpoints,
    labels,
  };
}

/** A CloudFormation value with `values` filled in for its `Ref`s and `Fn::Sub`s (all the member template's forensics resources use). */
function resolved(value: unknown, values: Readonly<Record<string, string>>): unknown {
  const lookup = (name: string): string => {
    const found = values[name];
    if (found === undefined) throw new Error(`the member template refers to ${name}, which the demo does not fill in`);
    return found;
  };
  if (Array.isArray(value)) return value.map((item) => resolved(item, values));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined && typeof only[1] === 'string') {
    if (only[0] === 'Ref') return lookup(only[1]);
    if (only[0] === 'Fn::Sub') return only[1].replace(/\$\{([\w:]+)\}/g, (_, name: string) => lookup(name));
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolved(item, values)]));
}

const templateTags = z.array(z.object({ Key: z.string(), Value: z.string() }));
const memberTemplateShape = z.object({
  Parameters: z.record(z.string(), z.object({ Default: z.optional(z.string()) })),
  Resources: z.record(z.string(), z.object({ Properties: z.optional(z.unknown()) })),
});
const forensicsKeyShape = z.object({
  Description: z.string(),
  EnableKeyRotation: z.boolean(),
  KeySpec: z.literal('SYMMETRIC_DEFAULT'),
  KeyUsage: z.literal('ENCRYPT_DECRYPT'),
  KeyPolicy: z.unknown(),
  Tags: templateTags,
});
const aliasShape = z.object({ AliasName: z.string(), TargetKeyId: z.string() });
const roleShape = z.object({
  RoleName: z.string(),
  Description: z.string(),
  MaxSessionDuration: z.number(),
  AssumeRolePolicyDocument: z.unknown(),
  Policies: z.array(z.object({ PolicyName: z.string(), PolicyDocument: z.unknown() })),
  Tags: templateTags,
});
const profileShape = z.object({ InstanceProfileName: z.string(), Roles: z.array(z.string()) });

/**
 * What the member template (`riposte roles --forensics-account`) creates in `account` for the forensics account, created from the
 * template's own resources with its parameters filled in: the forensics key (its key policy naming the forensics account) under
 * alias/riposte-forensics, and the forensic collection role and instance profile (the SSM agent's messaging, output to the
 * hosting account's evidence buckets).
 */
async function memberTemplateForensics(clients: MemberClients, account: string, hostingAccount: string): Promise<Forensics> {
  const template = memberTemplateShape.parse(memberRoleTemplate(builtInActions(), { forensicsAccountId: FORENSICS_ACCOUNT }));
  const values: Record<string, string> = {
    ...Object.fromEntries(Object.entries(template.Parameters).flatMap(([name, parameter]) => (parameter.Default === undefined ? [] : [[name, parameter.Default]]))),
    'AWS::Partition': 'aws',
    'AWS::AccountId': account,
    'AWS::Region': REGION,
    RiposteAccountId: hostingAccount,
    RoleRegion: REGION,
  };
  const properties = <T>(resource: string, shape: z.ZodMiniType<T>): T => shape.parse(resolved(template.Resources[resource]?.Properties, values));
  const target = memberTarget(account);
  const kms = clients.create(KMSClient, target);
  const key = properties('ForensicsKey', forensicsKeyShape);
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({
      Description: key.Description,
      KeySpec: key.KeySpec,
      KeyUsage: key.KeyUsage,
      Policy: JSON.stringify(key.KeyPolicy),
      Tags: key.Tags.map(({ Key, Value }) => ({ TagKey: Key, TagValue: Value })),
    }),
  );
  const keyId = KeyMetadata?.KeyId as string;
  if (key.EnableKeyRotation) await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }));
  values.ForensicsKey = keyId; // a key's Ref: its id
  const alias = properties('ForensicsKeyAlias', aliasShape);
  await kms.send(new CreateAliasCommand(alias));

  const iam = clients.create(IAMClient, target);
  const role = properties('ForensicCollectionRole', roleShape);
  await iam.send(
    new CreateRoleCommand({
      RoleName: role.RoleName,
      Description: role.Description,
      MaxSessionDuration: role.MaxSessionDuration,
      AssumeRolePolicyDocument: JSON.stringify(role.AssumeRolePolicyDocument),
      Tags: role.Tags,
    }),
  );
  for (const policy of role.Policies) await iam.send(new PutRolePolicyCommand({ RoleName: role.RoleName, PolicyName: policy.PolicyName, PolicyDocument: JSON.stringify(policy.PolicyDocument) }));
  values.ForensicCollectionRole = role.RoleName; // a role's Ref: its name
  const profile = properties('ForensicCollectionProfile', profileShape);
  const { InstanceProfile } = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: profile.InstanceProfileName }));
  for (const roleName of profile.Roles) await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profile.InstanceProfileName, RoleName: roleName }));
  return { account: FORENSICS_ACCOUNT, keyArn: KeyMetadata?.Arn as string, keyAlias: alias.AliasName, collectionProfileArn: InstanceProfile?.Arn as string };
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

/**
 * Both member accounts' problems (reached by AssumeRole, as Riposte reaches them), the password policies included, and what the
 * member template creates in account A for the forensics account. `hostingAccount` is the account Riposte runs in.
 */
export async function createWorld(clients: MemberClients, hostingAccount: string): Promise<World> {
  const [a, b] = [memberTarget(ACCOUNT_A), memberTarget(ACCOUNT_B)];
  const ec2A = clients.create(EC2Client, a);
  const iamA = clients.create(IAMClient, a);
  const [made, forensics, , , groupB] = await Promise.all([
    Promise.all([bastion(ec2A), compromised(clients, a)]),
    memberTemplateForensics(clients, ACCOUNT_A, hostingAccount),
    iamA.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true })),
    clients.create(IAMClient, b).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 10, RequireUppercaseCharacters: true, MaxPasswordAge: 365 })),
    defaultGroup(clients.create(EC2Client, b)),
  ]);
  // The readback names the forensics key where a snapshot is encrypted under it.
  const compromisedInstance = { ...made[1], labels: { ...made[1].labels, [forensics.keyArn]: `the forensics key ${forensics.keyAlias}` } };
  return { bastion: made[0], compromised: compromisedInstance, defaultGroup: groupB, forensics };
}
