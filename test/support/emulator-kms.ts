import { CreateKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';

import type { AwsClientFactory } from '../../src/aws/index.js';
import type { KmsSigningApi } from '../../src/evidence/index.js';

/** A KMS client in the hosting account on this worker's emulator: the factory's credentials and Region, as the deployed functions make it. */
export function hostingKms(factory: AwsClientFactory, region?: string): KMSClient {
  return factory.create(KMSClient, region === undefined ? {} : { region });
}

/** The KMS signing API (Sign, GetPublicKey) over the hosting KMS client, with the operations called, in order. */
export function emulatorKmsSigningApi(factory: AwsClientFactory): KmsSigningApi & { readonly calls: string[] } {
  const kms = hostingKms(factory);
  const calls: string[] = [];
  return {
    calls,
    sign(input) {
      calls.push('Sign');
      return kms.send(new SignCommand(input));
    },
    getPublicKey(input) {
      calls.push('GetPublicKey');
      return kms.send(new GetPublicKeyCommand(input));
    },
  };
}

/** An asymmetric signing key in the hosting account: ECC_NIST_P256 (ECDSA_SHA_256) or RSA_2048 (RSASSA_PSS_SHA_256…). */
export async function createSigningKey(factory: AwsClientFactory, keySpec: 'ECC_NIST_P256' | 'RSA_2048', region?: string): Promise<{ KeyId: string; Arn: string }> {
  const { KeyMetadata } = await hostingKms(factory, region).send(new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY', Description: 'evidence signing (test)' }));
  if (KeyMetadata?.KeyId === undefined || KeyMetadata.Arn === undefined) throw new Error('the emulator answered CreateKey without the key');
  return { KeyId: KeyMetadata.KeyId, Arn: KeyMetadata.Arn };
}
