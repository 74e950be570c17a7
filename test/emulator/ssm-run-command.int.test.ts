import { AssociateIamInstanceProfileCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';

import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';

/**
 * What the launcher (src/emulator/moto_riposte.py, "Systems Manager Run Command") adds to
 * moto's SSM, checked against the AWS Systems Manager API reference through the SDK. Each
 * documented fact a test relies on is quoted with its page; if the launcher drifts from it,
 * the test fails. The `riposte-emulator` tag and `#riposte-emulator:` lines are the launcher's
 * test devices, not AWS behaviour.
 */

const BUCKET = 'riposte-ssm-output';
const factory = () => emulatorClientFactory();
const ec2 = () => factory().create(EC2Client, {});
const ssm = () => factory().create(SSMClient, {});
const s3 = () => factory().create(S3Client, {}, { forcePathStyle: true });

async function instance(pingStatus?: string): Promise<string> {
  const { Instances } = await ec2().send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      ...(pingStatus === undefined ? {} : { TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'riposte-emulator:ssm-ping-status', Value: pingStatus }] }] }),
    }),
  );
  return Instances?.[0]?.InstanceId as string;
}
async function withProfile(instanceId: string): Promise<void> {
  const { InstanceProfile } = await factory()
    .create(IAMClient, {})
    .send(new CreateInstanceProfileCommand({ InstanceProfileName: `p-${instanceId}` }));
  await ec2().send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: InstanceProfile?.Arn as string } }));
}
const keys = async (prefix: string): Promise<string[]> => ((await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key as string).sort();
const body = async (key: string): Promise<string> => (await (await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString('utf8')) ?? '';

beforeEach(async () => {
  await resetEmulator();
  await s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
});

describe('emulated DescribeInstanceInformation', () => {
  it('lists managed nodes with their PingStatus, filtered by InstanceIds or PingStatus', async () => {
    const online = await instance('Online');
    const lost = await instance('ConnectionLost');
    await instance(); // not a managed node

    // API_DescribeInstanceInformation: "Provides information about one or more of your managed nodes,
    // including the operating system platform, SSM Agent version, association status, and IP address."
    // InstanceInformation PingStatus: "Valid Values: Online | ConnectionLost | Inactive".
    const all = await ssm().send(new DescribeInstanceInformationCommand({}));
    expect(all.InstanceInformationList?.map((node) => [node.InstanceId, node.PingStatus]).sort()).toEqual(
      [
        [online, 'Online'],
        [lost, 'ConnectionLost'],
      ].sort(),
    );
    // InstanceInformationStringFilter Key: "Valid filter keys include ... InstanceIds ... PingStatus".
    const one = await ssm().send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [online] }] }));
    expect(one.InstanceInformationList).toMatchObject([{ InstanceId: online, PingStatus: 'Online', PlatformType: 'Linux', ResourceType: 'EC2Instance' }]);
    // "This call doesn't return the IAM role for EC2 instances." (InstanceInformation IamRole)
    expect(one.InstanceInformationList?.[0]?.IamRole).toBeUndefined();
    const byStatus = await ssm().send(new DescribeInstanceInformationCommand({ InstanceInformationFilterList: [{ key: 'PingStatus', valueSet: ['ConnectionLost'] }] }));
    expect(byStatus.InstanceInformationList?.map((node) => node.InstanceId)).toEqual([lost]);
    // A filter the launcher does not evaluate is refused, never ignored.
    await expect(ssm().send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'AgentVersion', Values: ['3'] }] }))).rejects.toMatchObject({ name: 'InvalidFilterKey' });
  });
});

describe('emulated Run Command output to S3', () => {
  it('writes stdout and stderr where the agent does, and answers their URLs and inline content', async () => {
    const instanceId = await instance('Online');
    await withProfile(instanceId);

    const { Command } = await ssm().send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [instanceId],
        Parameters: { commands: ['#riposte-emulator: stdout hello', '#riposte-emulator: stderr warning'] },
        OutputS3BucketName: BUCKET,
        OutputS3KeyPrefix: 'collect/run-1',
      }),
    );
    const commandId = Command?.CommandId as string;

    // CommandPlugin OutputS3KeyPrefix: "The S3 directory path inside the bucket where the responses to the command
    // executions should be stored ... doc-example-bucket/ab19cb99-a030-46dd-9dfc-8eSAMPLEPre-Fix/i-02573cafcfEXAMPLE/awsrunShellScript
    // ... i-02573cafcfEXAMPLE is the instance ID; awsrunShellScript is the name of the plugin." Under it, the agent
    // names the step (0.awsrunShellScript) and the stream, after the command id.
    const base = `collect/run-1/${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript`;
    expect(await keys('collect/')).toEqual([`${base}/stderr`, `${base}/stdout`]);
    expect(await body(`${base}/stdout`)).toBe('hello\n');
    expect(await body(`${base}/stderr`)).toBe('warning\n');
    // API_GetCommandInvocation: StandardOutputUrl "The URL for the complete text written by the plugin to stdout in
    // Amazon S3"; StandardOutputContent "The first 24,000 characters written by the plugin to stdout";
    // StandardErrorContent "The first 8,000 characters written by the plugin to stderr".
    const invocation = await ssm().send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
    expect(invocation).toMatchObject({
      Status: 'Success',
      ResponseCode: 0,
      StandardOutputContent: 'hello\n',
      StandardErrorContent: 'warning\n',
      StandardOutputUrl: `https://s3.us-east-1.amazonaws.com/${BUCKET}/${base}/stdout`,
      StandardErrorUrl: `https://s3.us-east-1.amazonaws.com/${BUCKET}/${base}/stderr`,
    });
  });

  it('ends Failed with the exit device, writes no empty stream, and nothing for an instance without a profile', async () => {
    const managed = await instance('Online');
    await withProfile(managed);
    const bare = await instance('Online');

    const failed = await ssm().send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [managed],
        Parameters: { commands: ['#riposte-emulator: stderr no such tool', '#riposte-emulator: exit 69'] },
        OutputS3BucketName: BUCKET,
        OutputS3KeyPrefix: 'a',
      }),
    );
    // API_GetCommandInvocation ResponseCode: "The error level response code for the plugin script."
    expect(await ssm().send(new GetCommandInvocationCommand({ CommandId: failed.Command?.CommandId, InstanceId: managed }))).toMatchObject({
      Status: 'Failed',
      ResponseCode: 69,
      StandardOutputUrl: '',
    });
    // amazon-ssm-agent (agent/plugins/pluginutil, UploadOutputToS3Bucket) uploads a stream only when it has text.
    expect(await keys('a/')).toEqual([`a/${failed.Command?.CommandId}/${managed}/awsrunShellScript/0.awsrunShellScript/stderr`]);

    // The agent uploads with the instance's own credentials: with no instance profile, nothing reaches the bucket.
    await ssm().send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [bare],
        Parameters: { commands: ['#riposte-emulator: stdout x'] },
        OutputS3BucketName: BUCKET,
        OutputS3KeyPrefix: 'b',
      }),
    );
    expect(await keys('b/')).toEqual([]);
  });
});
