import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';

import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';

/**
 * What the launcher (src/emulator/moto_riposte.py, section "EC2 security group rules")
 * changes in moto's security group rules, checked against the Amazon EC2 API reference
 * through the SDK. If the launcher drifts from it, the test fails.
 */

const ec2 = (): EC2Client => emulatorClientFactory().create(EC2Client);

async function groupAndS3PrefixList(): Promise<{ groupId: string; prefixListId: string }> {
  const { Vpc } = await ec2().send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }));
  const { GroupId } = await ec2().send(new CreateSecurityGroupCommand({ VpcId: Vpc?.VpcId, GroupName: 'prefix-list-rules', Description: 'drift test' }));
  const { PrefixLists } = await ec2().send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] }));
  return { groupId: GroupId as string, prefixListId: PrefixLists?.[0]?.PrefixListId as string };
}

beforeEach(async () => {
  await resetEmulator();
});

describe('emulated security group rules: a rule to a prefix list', () => {
  it('keeps the description it was authorized with, as DescribeSecurityGroups and DescribeSecurityGroupRules answer it', async () => {
    const { groupId, prefixListId } = await groupAndS3PrefixList();
    expect(prefixListId).toMatch(/^pl-/);

    // API reference, PrefixListId: "Description: A description for the security group rule that references this prefix list ID."
    await ec2().send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: prefixListId, Description: 'S3 through its gateway endpoint' }] },
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.60.1.5/32', Description: 'ssm endpoint' }] },
        ],
      }),
    );

    const { SecurityGroups } = await ec2().send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const https = SecurityGroups?.[0]?.IpPermissionsEgress?.find((permission) => permission.FromPort === 443);
    expect(https?.PrefixListIds).toEqual([{ PrefixListId: prefixListId, Description: 'S3 through its gateway endpoint' }]);
    expect(https?.IpRanges).toEqual([{ CidrIp: '10.60.1.5/32', Description: 'ssm endpoint' }]);
    const { SecurityGroupRules } = await ec2().send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
    expect(SecurityGroupRules?.find((rule) => rule.PrefixListId === prefixListId)).toMatchObject({ IsEgress: true, Description: 'S3 through its gateway endpoint' });

    // The description is not part of the rule: it is revoked by its id, protocol and ports alone.
    await ec2().send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: prefixListId }] }] }));
    const after = await ec2().send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    expect(after.SecurityGroups?.[0]?.IpPermissionsEgress?.flatMap((permission) => permission.PrefixListIds ?? [])).toEqual([]);
  });
});
