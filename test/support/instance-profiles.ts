import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';

/** A role EC2 may assume, in an instance profile of its own (`profileName`, the role's name unless given); the profile's ARN. */
export async function ec2InstanceProfile(iam: IAMClient, roleName: string, profileName: string = roleName): Promise<string> {
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: trust }));
  const { InstanceProfile } = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: profileName }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName }));
  return InstanceProfile?.Arn as string;
}
