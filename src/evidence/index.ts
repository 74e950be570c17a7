/**
 * Evidence that holds up: the signature of a run's evidence manifest (KMS
 * signs, anyone with the public key checks), and the template of the
 * per-Region evidence bucket with Object Lock.
 */
export { evidenceBucketTemplate, FORENSICS_READ_ACTIONS, RetentionMode, tlsOnlyStatement } from './bucket-template.js';
export type { EvidenceBucketTemplateOptions } from './bucket-template.js';
export { EvidenceSigningError, EvidenceVerificationInputError } from './errors.js';
export {
  fetchPublicKeyPem,
  kmsManifestSigner,
  parseManifestSignature,
  publicKeyPem,
  RSASSA_PSS_SALT_LENGTH,
  SIGNING_ALGORITHMS,
  SigningAlgorithm,
  verifyManifestSignature,
} from './manifest-signature.js';
export type { KmsSigningApi, ManifestSignature, ManifestSigner, ManifestVerification } from './manifest-signature.js';
