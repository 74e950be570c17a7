import { RiposteError, type ErrorContext } from '../errors.js';

/**
 * What an investigator gave to check a manifest cannot be read as what it
 * should be: a signature file that is not Riposte's, a public key that is
 * neither PEM nor DER, a key of another type than the signature's
 * algorithm. Nothing was verified; the same input would fail the same way.
 */
export class EvidenceVerificationInputError extends RiposteError {
  override readonly name: string = 'EvidenceVerificationInputError';
  readonly code = 'EVIDENCE_VERIFICATION_INPUT_INVALID';
  constructor(message: string, context: ErrorContext = {}, cause?: unknown) {
    super(message, { context, cause });
  }
}

/**
 * KMS did not sign the manifest (access denied, a key that cannot sign,
 * throttling). The evidence objects and the manifest are stored; the
 * signature is not. `retryable` follows the cause.
 */
export class EvidenceSigningError extends RiposteError {
  override readonly name: string = 'EvidenceSigningError';
  readonly code = 'EVIDENCE_SIGNING_FAILED';
  constructor(message: string, context: ErrorContext, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { context, cause: options.cause, retryable: options.retryable ?? false });
  }
}
