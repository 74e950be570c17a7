import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';

import { createHash, createHmac, type Hash } from 'node:crypto';

import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, HeaderBag, HttpRequest, SourceData } from '@smithy/types';

import { AwsClientFactory, MemberClients, MemberCredentials, type ClientScope, type SdkClient, type SdkClientConstructor } from '../../src/aws/index.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { emulatorClientFactory } from './emulator.js';

const ROLE = 'RiposteMemberRole';
const HOSTING = '123456789012';

export { setIamEnforcement } from './emulator.js';

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
  const asRiposte = new AwsClientFactory(factory.settings, { ...factory.options, credentials });
  return memberClientsOf(asRiposte);
}

/** Member clients acting through the member role, from a factory holding Riposte's own credentials. */
function memberClientsOf(asRiposte: AwsClientFactory): MemberClients {
  return new MemberClients(asRiposte, new MemberCredentials(asRiposte, { roleName: ROLE, externalId: 'riposte-test', sessionDurationSeconds: 900, assumeRoleInHostingAccount: true }));
}

type Hmac = ReturnType<typeof createHmac>;

/** SHA-256 (or HMAC-SHA-256 with a secret) for the signer, from node:crypto. */
class Sha256 implements Checksum {
  #hash: Hash | Hmac;
  readonly #secret: SourceData | undefined;
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = Sha256.#make(secret);
  }
  static #make(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as Uint8Array));
  }
  update(data: Uint8Array | string): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = Sha256.#make(this.#secret);
  }
}

/**
 * Emulator gap (moto 5.2.1, IAM enforcement on): moto recomputes an S3
 * request's SigV4 signature from the URL with `/` and `:` in query values
 * decoded, while the SDK (like AWS) signs them percent-encoded, so e.g.
 * ListObjectsV2 with `Prefix: 'evidence/…'` fails with SignatureDoesNotMatch
 * before any permission is checked. This signer signs the canonical query
 * as moto reads it; it is used only for S3 clients of the test's hosting
 * identity, and changes nothing else of the request.
 */
class MotoS3QuerySigner extends SignatureV4 {
  protected override createCanonicalRequest(request: HttpRequest, canonicalHeaders: HeaderBag, payloadHash: string): string {
    const lines = super.createCanonicalRequest(request, canonicalHeaders, payloadHash).split('\n');
    lines[2] = (lines[2] ?? '').replace(/%2F/gi, '/').replace(/%3A/gi, ':');
    return lines.join('\n');
  }
}

/** Riposte's own credentials in the hosting account, with S3 requests signed as moto checks them (see MotoS3QuerySigner). */
class HostingFactory extends AwsClientFactory {
  readonly #credentials: AwsCredentialIdentity;
  constructor(settings: AwsClientFactory['settings'], credentials: AwsCredentialIdentity) {
    super(settings, { ...emulatorClientOptions(), credentials });
    this.#credentials = credentials;
  }
  override create<Client extends SdkClient, ClientConfig>(Client: SdkClientConstructor<Client, ClientConfig>, scope: ClientScope = {}, extra: Partial<ClientConfig> = {}): Client {
    if ((Client as unknown) !== S3Client || scope.credentials !== undefined) return super.create(Client, scope, extra);
    const signer = new MotoS3QuerySigner({ credentials: this.#credentials, region: scope.region ?? this.settings.region, service: 's3', sha256: Sha256, uriEscapePath: false });
    return super.create(Client, scope, { ...extra, signer });
  }
}

const HOSTING_USER = 'riposte-hosting';
const HOSTING_POLICY = 'riposte-hosting';

/**
 * Allows Riposte's hosting-account user (made by `hostingFactoryWith`)
 * exactly `permissions` in the hosting account, plus sts:AssumeRole on the
 * member role, replacing what it allowed before. Call with enforcement off.
 */
export async function setHostingPermissions(permissions: readonly string[]): Promise<void> {
  const statements: object[] = [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::*:role/${ROLE}` }];
  if (permissions.length > 0) statements.push({ Effect: 'Allow', Action: [...permissions], Resource: '*' });
  await emulatorClientFactory()
    .create(IAMClient)
    .send(new PutUserPolicyCommand({ UserName: HOSTING_USER, PolicyName: HOSTING_POLICY, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
}

/**
 * Sets up, with enforcement still off, Riposte as an IAM user in the hosting
 * account (123456789012) allowed exactly `permissions` there, plus
 * sts:AssumeRole on the member role; returns a client factory holding its
 * keys, to use as `context.hosting.factory`. `setHostingPermissions`
 * changes what it allows. Call `setIamEnforcement(true)` afterwards.
 */
export async function hostingFactoryWith(permissions: readonly string[]): Promise<AwsClientFactory> {
  const factory = emulatorClientFactory();
  const iam = factory.create(IAMClient);
  await iam.send(new CreateUserCommand({ UserName: HOSTING_USER }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: HOSTING_USER }));
  await setHostingPermissions(permissions);
  return new HostingFactory(factory.settings, { accessKeyId: AccessKey?.AccessKeyId as string, secretAccessKey: AccessKey?.SecretAccessKey as string });
}

/**
 * Riposte with nothing but what an action declares: one hosting-account
 * user allowed `permissions.hosting` (+ sts:AssumeRole), acting in `account`
 * through the member role allowed exactly `permissions.member`. Returns the
 * member clients and the hosting factory, both with that user's keys. Call
 * with enforcement off, then `setIamEnforcement(true)`.
 */
export async function riposteWith(
  account: string,
  permissions: { readonly member: readonly string[]; readonly hosting: readonly string[] },
): Promise<{ clients: MemberClients; hosting: AwsClientFactory }> {
  const hosting = await hostingFactoryWith(permissions.hosting);
  await setupIam(account).send(
    new CreateRoleCommand({
      RoleName: ROLE,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOSTING}:user/${HOSTING_USER}` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'riposte-test' } } },
        ],
      }),
    }),
  );
  await setMemberRolePermissions(account, permissions.member);
  return { clients: memberClientsOf(hosting), hosting };
}
