import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

import * as z from '../zod.js';

import { describeError, isRetryableError, type ErrorContext } from '../errors.js';
import { EvidenceSigningError, EvidenceVerificationInputError } from './errors.js';

/*
 * A run's evidence manifest, signed with an asymmetric KMS key, and checked
 * later with the key's public half alone.
 *
 * KMS signs at most 4,096 bytes of message, and a manifest can be longer: it
 * signs the manifest's SHA-256 digest instead (`MessageType: DIGEST`). KMS
 * then signs that digest as the hash of the message (API_Sign: "DIGEST – ...
 * KMS skips the hashing step and signs the Message value"), so the signature
 * is an ordinary signature of the manifest's bytes: `openssl dgst -sha256
 * -verify` or node:crypto check it over the manifest file, without KMS.
 */

/** The KMS signing algorithms Riposte signs manifests with (SHA-256 both: the digest signed is the manifest's SHA-256). */
export const SigningAlgorithm = { EcdsaSha256: 'ECDSA_SHA_256', RsassaPssSha256: 'RSASSA_PSS_SHA_256' } as const;
export type SigningAlgorithm = (typeof SigningAlgorithm)[keyof typeof SigningAlgorithm];
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.values(SigningAlgorithm);

/**
 * RSASSA_PSS_SHA_256 as KMS signs it: "PKCS #1 v2.2, Section 8.1, RSA
 * signature with PSS padding using SHA-256 for both the message digest and
 * the MGF1 mask generation function along with a 256-bit salt" (KMS
 * Developer Guide, "Asymmetric key specs", RSA key specs for signing).
 */
export const RSASSA_PSS_SALT_LENGTH = 32;

/**
 * The two KMS operations a signer uses, with the inputs and outputs the KMS
 * API gives them (`KMSClient.send(new SignCommand(input))` answers the
 * `sign` shape). Kept to the API's own names, so any binding of KMS fits.
 */
export interface KmsSigningApi {
  sign(input: { KeyId: string; Message: Uint8Array; MessageType: 'DIGEST'; SigningAlgorithm: SigningAlgorithm }): Promise<{ KeyId?: string; Signature?: Uint8Array; SigningAlgorithm?: string }>;
  getPublicKey(input: { KeyId: string }): Promise<{ KeyId?: string; PublicKey?: Uint8Array }>;
}

/** The signature file stored beside a manifest (`manifest.json.sig`): what an investigator checks the manifest with, the public key aside. */
export interface ManifestSignature {
  readonly schema: 'riposte.evidence-signature/1';
  /** Hex SHA-256 of the manifest's exact bytes: the digest KMS signed. */
  readonly manifestSha256: string;
  /** The key's ARN, as KMS answered it: the key whose public key checks this signature. */
  readonly keyId: string;
  readonly signingAlgorithm: SigningAlgorithm;
  /** Always `DIGEST`: KMS signed `manifestSha256`'s bytes as the message's hash. */
  readonly messageType: 'DIGEST';
  /** The signature, base64 (DER for ECDSA, as KMS returns it). */
  readonly signature: string;
  readonly signedAt: string;
}

const signatureSchema = z.deferred(() =>
  z.strictObject({
    schema: z.literal('riposte.evidence-signature/1'),
    manifestSha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256')),
    keyId: z.string().check(z.minLength(1)),
    signingAlgorithm: z.enum(SIGNING_ALGORITHMS as [SigningAlgorithm, ...SigningAlgorithm[]]),
    messageType: z.literal('DIGEST'),
    signature: z.string().check(z.regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')),
    signedAt: z.string(),
  }),
);

const sha256Of = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

/** Signs a manifest with one KMS key: what the evidence steps are given by the deployment. */
export interface ManifestSigner {
  /** The key as configured (id, ARN or alias). */
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  /** KMS Sign over the manifest's SHA-256 (one call); `context` is what a failure names. */
  sign(manifest: Uint8Array, context: ErrorContext): Promise<ManifestSignature>;
  /** The key's public key as PEM (one GetPublicKey per signer, then kept): what checks its signatures. */
  publicKey(): Promise<string>;
}

/**
 * A signer over KMS: `Sign` with `MessageType: DIGEST` on the manifest's
 * SHA-256. Needs `kms:Sign` on the key (and `kms:GetPublicKey` for `publicKey()`).
 */
export function kmsManifestSigner(kms: KmsSigningApi, keyId: string, algorithm: SigningAlgorithm = SigningAlgorithm.EcdsaSha256, now: () => Date = () => new Date()): ManifestSigner {
  let publicKey: Promise<string> | undefined;
  return {
    keyId,
    algorithm,
    publicKey() {
      publicKey ??= fetchPublicKeyPem(kms, keyId);
      // A failed read is not kept: the next asks again.
      publicKey.catch(() => (publicKey = undefined));
      return publicKey;
    },
    async sign(manifest, context) {
      const digest = sha256Of(manifest);
      let answer: Awaited<ReturnType<KmsSigningApi['sign']>>;
      try {
        answer = await kms.sign({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm });
      } catch (error) {
        throw new EvidenceSigningError(
          `KMS did not sign the evidence manifest with key ${keyId}: ${describeError(error)}`,
          { ...context, operation: 'KMS.Sign' },
          { cause: error, retryable: isRetryableError(error) },
        );
      }
      if (answer.Signature === undefined || answer.Signature.byteLength === 0) {
        throw new EvidenceSigningError(`KMS answered Sign for key ${keyId} without a signature`, { ...context, operation: 'KMS.Sign' });
      }
      return {
        schema: 'riposte.evidence-signature/1',
        manifestSha256: digest.toString('hex'),
        keyId: answer.KeyId ?? keyId,
        signingAlgorithm: algorithm,
        messageType: 'DIGEST',
        signature: Buffer.from(answer.Signature).toString('base64'),
        signedAt: now().toISOString(),
      };
    },
  };
}

/** A KMS public key (GetPublicKey's DER SubjectPublicKeyInfo) as PEM, the form `openssl` and `riposte evidence verify` read. */
export function publicKeyPem(der: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    .export({ format: 'pem', type: 'spki' })
    .toString();
}

/**
 * The signing key's public key, as PEM: one GetPublicKey, after which every
 * manifest it signed is checked offline. Needs `kms:GetPublicKey`.
 */
export async function fetchPublicKeyPem(kms: KmsSigningApi, keyId: string): Promise<string> {
  const { PublicKey } = await kms.getPublicKey({ KeyId: keyId });
  if (PublicKey === undefined) throw new EvidenceVerificationInputError(`KMS answered GetPublicKey for ${keyId} without a public key`, { resource: keyId, operation: 'KMS.GetPublicKey' });
  return publicKeyPem(PublicKey);
}

/** Reads a signature file (`manifest.json.sig`). @throws EvidenceVerificationInputError when it is not one. */
export function parseManifestSignature(bytes: Uint8Array | string, file = 'signature'): ManifestSignature {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new EvidenceVerificationInputError(`${file} is not JSON: ${describeError(error)}`, { file }, error);
  }
  const parsed = signatureSchema().safeParse(json);
  if (!parsed.success) throw new EvidenceVerificationInputError(`${file} is not a Riposte manifest signature: ${z.prettifyError(parsed.error)}`, { file });
  return parsed.data;
}

/**
 * A public key as an investigator has it: PEM, DER bytes (GetPublicKey's
 * `PublicKey`), or the base64 of that DER (what `aws kms get-public-key
 * --query PublicKey --output text` prints).
 */
function readPublicKey(key: string | Uint8Array): KeyObject {
  try {
    const text = typeof key === 'string' ? key : Buffer.from(key.subarray(0, 16)).toString('latin1');
    if (/^\s*-----BEGIN/.test(text)) return createPublicKey({ key: Buffer.from(key), format: 'pem' });
    const der = typeof key === 'string' ? Buffer.from(key.replace(/\s+/g, ''), 'base64') : Buffer.from(key);
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (error) {
    throw new EvidenceVerificationInputError(`the public key is neither PEM nor DER (SubjectPublicKeyInfo, or its base64): ${describeError(error)}`, { field: 'publicKey' }, error);
  }
}

/** What checking a manifest against its signature found. */
export interface ManifestVerification {
  /** The signature is the key's, over exactly these manifest bytes. */
  readonly valid: boolean;
  /** Hex SHA-256 of the manifest given. */
  readonly manifestSha256: string;
  readonly keyId: string;
  readonly signingAlgorithm: SigningAlgorithm;
  /** Why it is not valid, one reason a line (empty when valid). */
  readonly problems: readonly string[];
}

/**
 * Checks a manifest against its signature file with the public key alone
 * (PEM, or GetPublicKey's DER): no AWS call. Valid only when the manifest's
 * SHA-256 is the one signed and the signature over the manifest's bytes
 * checks with the key under the recorded algorithm (ECDSA_SHA_256: DER
 * signature; RSASSA_PSS_SHA_256: MGF1-SHA-256 and a 32-byte salt, as KMS
 * signs).
 *
 * @throws EvidenceVerificationInputError when the signature file or the key
 *   cannot be read, or the key's type cannot make the recorded algorithm's
 *   signatures (an EC key for an RSA signature).
 */
export function verifyManifestSignature(input: {
  readonly manifest: Uint8Array;
  readonly signature: Uint8Array | string | ManifestSignature;
  readonly publicKey: string | Uint8Array;
}): ManifestVerification {
  const signature = typeof input.signature === 'object' && !(input.signature instanceof Uint8Array) ? input.signature : parseManifestSignature(input.signature);
  const key = readPublicKey(input.publicKey);
  const wantedType = signature.signingAlgorithm === SigningAlgorithm.EcdsaSha256 ? 'ec' : 'rsa';
  if (key.asymmetricKeyType !== wantedType) {
    throw new EvidenceVerificationInputError(
      `the public key is ${key.asymmetricKeyType ?? 'of an unknown type'}, but the manifest was signed with ${signature.signingAlgorithm} (an ${wantedType} key)`,
      {
        field: 'publicKey',
        resource: signature.keyId,
      },
    );
  }
  const manifestSha256 = sha256Of(input.manifest).toString('hex');
  const problems: string[] = [];
  if (manifestSha256 !== signature.manifestSha256) problems.push(`the manifest's SHA-256 is ${manifestSha256}, the signature is over ${signature.manifestSha256}: the manifest is not the one signed`);
  const options =
    signature.signingAlgorithm === SigningAlgorithm.EcdsaSha256 ? { key, dsaEncoding: 'der' as const } : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: RSASSA_PSS_SALT_LENGTH };
  if (!verify('sha256', input.manifest, options, Buffer.from(signature.signature, 'base64'))) {
    problems.push(`the signature does not check with this public key over the manifest's bytes (${signature.signingAlgorithm}, key ${signature.keyId})`);
  }
  return { valid: problems.length === 0, manifestSha256, keyId: signature.keyId, signingAlgorithm: signature.signingAlgorithm, problems };
}
