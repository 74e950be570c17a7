import { constants, createHash, createPublicKey, verify } from 'node:crypto';

import { GetPublicKeyCommand, KMSServiceException, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectRetentionCommand, PutObjectCommand, PutObjectLockConfigurationCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';

import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';
import { createSigningKey, hostingKms } from '../support/emulator-kms.js';

/**
 * What the launcher (src/emulator/moto_riposte.py, section "Evidence") adds to
 * moto's KMS and S3, checked against the AWS documentation through real
 * requests. Each documented fact relied on is quoted with its page.
 */

const factory = () => emulatorClientFactory();
const MANIFEST = Buffer.from('{"schema":"riposte.evidence-manifest/1"}\n', 'utf8');
const digestOf = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();
type Algorithm = 'ECDSA_SHA_256' | 'RSASSA_PSS_SHA_256';

async function sign(keyId: string, message: Uint8Array, messageType: 'RAW' | 'DIGEST', algorithm: Algorithm): Promise<Buffer> {
  const { Signature } = await hostingKms(factory()).send(new SignCommand({ KeyId: keyId, Message: message, MessageType: messageType, SigningAlgorithm: algorithm }));
  return Buffer.from(Signature ?? new Uint8Array());
}

async function publicKeyOf(keyId: string) {
  const { PublicKey } = await hostingKms(factory()).send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey ?? new Uint8Array()), format: 'der', type: 'spki' });
}

beforeEach(() => resetEmulator());

describe('emulated KMS Sign and Verify with MessageType', () => {
  // API_Sign, MessageType: "use DIGEST for message digests, which are already hashed ... KMS skips the hashing step
  // and signs the Message value": the signature of a digest is the message's own, checked over the message.
  it('signs a SHA-256 digest (DIGEST) as the signature of the message itself, and a RAW message alike: ECDSA_SHA_256 and RSASSA_PSS_SHA_256', async () => {
    const ecc = await createSigningKey(factory(), 'ECC_NIST_P256');
    const rsa = await createSigningKey(factory(), 'RSA_2048');
    const [eccKey, rsaKey] = await Promise.all([publicKeyOf(ecc.KeyId), publicKeyOf(rsa.KeyId)]);

    for (const [message, type] of [
      [digestOf(MANIFEST), 'DIGEST'],
      [MANIFEST, 'RAW'],
    ] as const) {
      expect(verify('sha256', MANIFEST, { key: eccKey, dsaEncoding: 'der' }, await sign(ecc.KeyId, message, type, 'ECDSA_SHA_256')), type).toBe(true);
      // Asymmetric key specs, RSA: RSASSA_PSS_SHA_256 is PSS "using SHA-256 for both the message digest and the MGF1
      // mask generation function along with a 256-bit salt": the salt length is checked, not detected.
      const pss = await sign(rsa.KeyId, message, type, 'RSASSA_PSS_SHA_256');
      expect(verify('sha256', MANIFEST, { key: rsaKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, pss), type).toBe(true);
    }
  });

  it('refuses a digest of the wrong length for the algorithm (ValidationException)', async () => {
    const ecc = await createSigningKey(factory(), 'ECC_NIST_P256');

    // API_Sign: "When the value of MessageType is DIGEST, the length of the Message value must match the length of
    // hashed messages for the specified signing algorithm."
    await expect(sign(ecc.KeyId, Buffer.from('not a digest'), 'DIGEST', 'ECDSA_SHA_256')).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Digest is invalid length for algorithm ECDSA_SHA_256.',
    });
  });

  it('verifies a DIGEST signature, and fails Verify with KMSInvalidSignatureException for another digest', async () => {
    const ecc = await createSigningKey(factory(), 'ECC_NIST_P256');
    const signature = await sign(ecc.KeyId, digestOf(MANIFEST), 'DIGEST', 'ECDSA_SHA_256');
    const verifyDigest = (digest: Uint8Array) =>
      hostingKms(factory()).send(new VerifyCommand({ KeyId: ecc.KeyId, Message: digest, MessageType: 'DIGEST', Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }));

    await expect(verifyDigest(digestOf(MANIFEST))).resolves.toMatchObject({ SignatureValid: true, KeyId: ecc.Arn });
    // API_Verify: "If the signature verification fails, the Verify operation fails with an KMSInvalidSignatureException exception."
    const error = await verifyDigest(digestOf(Buffer.from('tampered'))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KMSServiceException);
    expect(error).toMatchObject({ name: 'KMSInvalidSignatureException' });
  });
});

describe('emulated S3 GetObjectRetention', () => {
  it("answers an object's Object Lock retention (Mode, RetainUntilDate), the default one beside a legal hold, and NoSuchObjectLockConfiguration (404) for an object without one", async () => {
    const s3 = factory().create(S3Client, { region: 'eu-west-1' }, { forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'locked', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' }, ObjectLockEnabledForBucket: true }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'locked', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3 } } } }));
    await s3.send(new CreateBucketCommand({ Bucket: 'plain', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    const before = Date.now();
    await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'a.json', Body: '{}', ChecksumAlgorithm: 'SHA256' }));
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'a.json', Body: '{}' }));
    await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'held.json', Body: '{}', ChecksumAlgorithm: 'SHA256', ObjectLockLegalHoldStatus: 'ON' }));

    // API_GetObjectRetention: "Retrieves an object's retention settings"; the bucket's default retention applies to a
    // new object version (Object Lock, "Bucket configuration").
    const { Retention } = await s3.send(new GetObjectRetentionCommand({ Bucket: 'locked', Key: 'a.json' }));
    expect(Retention?.Mode).toBe('COMPLIANCE');
    const days = ((Retention?.RetainUntilDate?.getTime() ?? 0) - before) / 86_400_000;
    expect(days).toBeGreaterThan(2.99);
    expect(days).toBeLessThan(3.01);
    // S3 User Guide, "How S3 Object Lock works": the bucket's default retention applies "unless you explicitly specify a
    // retention mode and period for the object version", and "legal holds are independent from retention periods".
    const held = await s3.send(new GetObjectRetentionCommand({ Bucket: 'locked', Key: 'held.json' }));
    expect(held.Retention?.Mode).toBe('COMPLIANCE');

    // S3 Error codes: "NoSuchObjectLockConfiguration | The specified object does not have a ObjectLock configuration. | 404 Not Found".
    const error = await s3.send(new GetObjectRetentionCommand({ Bucket: 'plain', Key: 'a.json' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error).toMatchObject({ name: 'NoSuchObjectLockConfiguration', $metadata: { httpStatusCode: 404 } });
  });
});
