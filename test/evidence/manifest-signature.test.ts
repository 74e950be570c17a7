import { constants, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { EvidenceSigningError, EvidenceVerificationInputError, kmsManifestSigner, verifyManifestSignature, type ManifestSignature } from '../../src/evidence/index.js';

/*
 * Checking a manifest offline. The signatures here are made with node:crypto
 * over the manifest's bytes, which is what KMS's DIGEST signature of the
 * manifest's SHA-256 is (the emulator proves KMS's side:
 * test/emulator/evidence.int.test.ts, test/actions/evidence-regional.int.test.ts).
 */

const MANIFEST = Buffer.from(`${JSON.stringify({ schema: 'riposte.evidence-manifest/1', objects: [{ key: 'a.json', sha256: 'ab'.repeat(32) }] }, null, 2)}\n`, 'utf8');
const ecc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (key: KeyObject): string => key.export({ format: 'pem', type: 'spki' }).toString();

function signatureFile(signature: Buffer, algorithm: ManifestSignature['signingAlgorithm'], manifest: Uint8Array = MANIFEST): string {
  return JSON.stringify({
    schema: 'riposte.evidence-signature/1',
    manifestSha256: createHash('sha256').update(manifest).digest('hex'),
    keyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    signingAlgorithm: algorithm,
    messageType: 'DIGEST',
    signature: signature.toString('base64'),
    signedAt: '2026-12-05T00:00:00.000Z',
  });
}

const eccSignature = signatureFile(sign('sha256', MANIFEST, { key: ecc.privateKey, dsaEncoding: 'der' }), 'ECDSA_SHA_256');
const pssSignature = signatureFile(sign('sha256', MANIFEST, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }), 'RSASSA_PSS_SHA_256');

describe('verifyManifestSignature', () => {
  it('accepts an ECDSA_SHA_256 and an RSASSA_PSS_SHA_256 signature over the manifest, with the public key as PEM, DER or base64 DER', () => {
    expect(verifyManifestSignature({ manifest: MANIFEST, signature: eccSignature, publicKey: pem(ecc.publicKey) })).toMatchObject({ valid: true, problems: [], signingAlgorithm: 'ECDSA_SHA_256' });
    const der = ecc.publicKey.export({ format: 'der', type: 'spki' });
    expect(verifyManifestSignature({ manifest: MANIFEST, signature: eccSignature, publicKey: der }).valid).toBe(true);
    expect(verifyManifestSignature({ manifest: MANIFEST, signature: eccSignature, publicKey: der.toString('base64') }).valid).toBe(true);
    expect(verifyManifestSignature({ manifest: MANIFEST, signature: pssSignature, publicKey: pem(rsa.publicKey) })).toMatchObject({ valid: true, signingAlgorithm: 'RSASSA_PSS_SHA_256' });
  });

  it('refuses a manifest changed by one byte, naming both digests', () => {
    const tampered = Buffer.from(MANIFEST);
    tampered.writeUInt8((tampered.at(-3) ?? 0) ^ 1, tampered.length - 3);

    const result = verifyManifestSignature({ manifest: tampered, signature: eccSignature, publicKey: pem(ecc.publicKey) });

    expect(result.valid).toBe(false);
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]).toContain('the manifest is not the one signed');
    expect(result.problems[1]).toContain('does not check with this public key');
  });

  it("refuses another key's signature, and an RSA-PSS signature whose salt is not KMS's 32 bytes", () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(verifyManifestSignature({ manifest: MANIFEST, signature: eccSignature, publicKey: pem(other.publicKey) }).valid).toBe(false);
    const longSalt = signatureFile(sign('sha256', MANIFEST, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN }), 'RSASSA_PSS_SHA_256');
    expect(verifyManifestSignature({ manifest: MANIFEST, signature: longSalt, publicKey: pem(rsa.publicKey) }).valid).toBe(false);
  });

  it('throws EvidenceVerificationInputError for a key of the wrong type, an unreadable key, and a file that is not a signature', () => {
    expect(() => verifyManifestSignature({ manifest: MANIFEST, signature: eccSignature, publicKey: pem(rsa.publicKey) })).toThrow(
      /the public key is rsa, but the manifest was signed with ECDSA_SHA_256/,
    );
    expect(() => verifyManifestSignature({ manifest: MANIFEST, signature: eccSignature, publicKey: 'not a key' })).toThrow(EvidenceVerificationInputError);
    expect(() => verifyManifestSignature({ manifest: MANIFEST, signature: '{"schema":"other"}', publicKey: pem(ecc.publicKey) })).toThrow(/is not a Riposte manifest signature/);
    expect(() => verifyManifestSignature({ manifest: MANIFEST, signature: 'nope', publicKey: pem(ecc.publicKey) })).toThrow(/is not JSON/);
  });
});

describe('kmsManifestSigner', () => {
  it('asks KMS to sign the SHA-256 digest (DIGEST), and turns a refusal into EvidenceSigningError with the context and whether a retry helps', async () => {
    const requests: unknown[] = [];
    const refusal = Object.assign(new Error('not authorized to perform kms:Sign'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    const signer = kmsManifestSigner(
      {
        sign: (input) => {
          requests.push(input);
          return Promise.reject(refusal);
        },
        getPublicKey: () => Promise.reject(new Error('unused')),
      },
      'alias/riposte-evidence',
    );

    const error: unknown = await signer.sign(MANIFEST, { account: '222222222222', region: 'eu-west-1', step: 'ec2.capture-metadata' }).catch((caught: unknown) => caught);

    expect(requests).toEqual([{ KeyId: 'alias/riposte-evidence', Message: expect.any(Buffer), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }]);
    expect(Buffer.from((requests[0] as { Message: Buffer }).Message).toString('hex')).toBe((JSON.parse(eccSignature) as ManifestSignature).manifestSha256);
    expect(error).toBeInstanceOf(EvidenceSigningError);
    expect(error).toMatchObject({ code: 'EVIDENCE_SIGNING_FAILED', retryable: false, cause: refusal, context: { account: '222222222222', region: 'eu-west-1', operation: 'KMS.Sign' } });
  });
});
