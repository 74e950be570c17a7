import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';

import { AwsClientFactory, MemberClients, MemberCredentials } from '../../src/aws/index.js';
import { emulatorClientFactory, emulatorEndpoint } from './emulator.js';

const ROLE = 'RiposteMemberRole';
const HOSTING = '123456789012';

/**
 * Turns moto's IAM enforcement on (every later call is authorised against
 * IAM policies) or off. Affects only this worker's emulator, which belongs
 * to the running test file alone.
 */
export async function setIamEnforcement(on: boolean): Promise<void> {
  const response = await fetch(`${emulatorEndpoint()}/moto-api/reset-auth`, {
    method: 'POST',
    body: on ? '0' : '1000000000',
    headers: { 'Content-Type': 'text/plain' },
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`moto reset-auth failed: HTTP ${response.status}`);
}

/** IAM in the member `account`, through a setup role (works only while enforcement is off). */
function setupIam(account: string): IAMClient {
  const factory = emulatorClientFactory();
  const setup = new MemberClients(factory, new MemberCredentials(factory, { roleName: 'RiposteSetup', sessionDurationSeconds: 900, assumeRoleInHostingAccount: true }));
  return setup.create(IAMClient, { account, region: 'us-east-1', partition: 'aws', correlationId: 'setup' });
}

/**
 * Allows the member role in `account` exactly `permissions`, replacing what
 * it allowed before. Call with enforcement off.
 */
export async function setMemberRolePermissions(account: string, permissions: readonly string[]): Promise<void> {
  await setupIam(account).send(
    new PutRolePolicyCommand({
      RoleName: ROLE,
      PolicyName: 'riposte-remediation',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [...permissions], Resource: '*' }] }),
    }),
  );
}

/**
 * Sets up, with enforcement still off: Riposte as an IAM user in the hosting
 * account (allowed only sts:AssumeRole), and in `account` the member role
 * allowed exactly `permissions`. Returns member clients acting as Riposte
 * would, through that role (`setMemberRolePermissions` changes what it
 * allows). Call `setIamEnforcement(true)` afterwards.
 */
export async function memberRoleWith(account: string, permissions: readonly string[]): Promise<MemberClients> {
  const factory = emulatorClientFactory();
  const iam = factory.create(IAMClient);
  await iam.send(new CreateUserCommand({ UserName: 'riposte' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'riposte' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'riposte',
      PolicyName: 'assume-member-roles',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::*:role/${ROLE}` }] }),
    }),
  );
  await setupIam(account).send(
    new CreateRoleCommand({
      RoleName: ROLE,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOSTING}:user/riposte` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'riposte-test' } } }],
      }),
    }),
  );
  await setMemberRolePermissions(account, permissions);
  const credentials = { accessKeyId: AccessKey?.AccessKeyId as string, secretAccessKey: AccessKey?.SecretAccessKey as string };
  const asRiposte = new AwsClientFactory(factory.settings, {}, credentials);
  return new MemberClients(
    asRiposte,
    new MemberCredentials(asRiposte, { roleName: ROLE, externalId: 'riposte-test', sessionDurationSeconds: 900, assumeRoleInHostingAccount: true }),
  );
}
