import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, type KeyMetadata as SdkKeyMetadata } from '@aws-sdk/client-kms';

import type { MemberClients } from '../../src/aws/index.js';
import { emulatorEndpoint } from './emulator.js';

export interface KeyMetadata {
  readonly KeyId: string;
  readonly Arn: string;
  readonly KeyManager: string;
  readonly KeyState: string;
}

/** A KMS client in `account` on this worker's emulator, as the member role (Riposte itself calls KMS there only through EBS). */
export function memberKms(clients: MemberClients, account: string, region = 'us-east-1'): KMSClient {
  return clients.create(KMSClient, { account, region, partition: 'aws', correlationId: 'test-kms' });
}

function keyMetadataOf(key: SdkKeyMetadata | undefined): KeyMetadata {
  const { KeyId, Arn, KeyManager, KeyState } = key ?? {};
  if (KeyId === undefined || Arn === undefined || KeyManager === undefined || KeyState === undefined) throw new Error(`the emulator answered a key without its metadata: ${JSON.stringify(key)}`);
  return { KeyId, Arn, KeyManager, KeyState };
}

/** A customer managed key in `account`, with `alias` when given. */
export async function createCustomerKey(clients: MemberClients, account: string, alias?: string): Promise<KeyMetadata> {
  const kms = memberKms(clients, account);
  const { KeyMetadata: created } = await kms.send(new CreateKeyCommand({ Description: 'test key', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
  const key = keyMetadataOf(created);
  if (alias !== undefined) await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyId }));
  return key;
}

export async function describeKey(clients: MemberClients, account: string, keyId: string): Promise<KeyMetadata> {
  return keyMetadataOf((await memberKms(clients, account).send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata);
}

/**
 * Snapshots on this worker's emulator stay `pending` for their first
 * `describes` DescribeSnapshots answers (moto's state manager, model
 * `ec2::snapshot` of the launcher); `undefined` puts back completion at once.
 */
export async function holdSnapshotsPending(describes: number | undefined): Promise<void> {
  const path = describes === undefined ? 'unset-transition' : 'set-transition';
  const body = describes === undefined ? { model_name: 'ec2::snapshot' } : { model_name: 'ec2::snapshot', transition: { progression: 'manual', times: describes } };
  const response = await fetch(`${emulatorEndpoint()}/moto-api/state-manager/${path}`, { method: 'POST', body: JSON.stringify(body) });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`moto ${path} failed: HTTP ${response.status}`);
}
