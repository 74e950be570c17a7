import { RiposteError } from '../errors.js';

/**
 * STS refused to let Riposte assume the member role. Most often the role is
 * not deployed in that account, its trust policy does not name Riposte's
 * account, or the external ID differs.
 */
export class AssumeRoleDeniedError extends RiposteError {
  override readonly name: string = 'AssumeRoleDeniedError';
  readonly code = 'AWS_ASSUME_ROLE_DENIED';
  readonly roleArn: string;
  constructor(roleArn: string, account: string, region: string, cause: unknown) {
    super(
      `cannot assume ${roleArn} in account ${account}: access denied — is the Riposte member role deployed there, does its trust policy name this account, and is the external ID the same on both sides?`,
      { context: { account, region, resource: roleArn }, cause, retryable: false },
    );
    this.roleArn = roleArn;
  }
}

/** Assuming the member role failed for another reason (throttling, network): retrying may help. */
export class AssumeRoleFailedError extends RiposteError {
  override readonly name: string = 'AssumeRoleFailedError';
  readonly code = 'AWS_ASSUME_ROLE_FAILED';
  constructor(roleArn: string, account: string, region: string, cause: unknown) {
    super(`cannot assume ${roleArn} in account ${account}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      context: { account, region, resource: roleArn },
      cause,
      retryable: true,
    });
  }
}

/**
 * A member target whose region is not one of its partition's regions (see
 * `KNOWN_REGIONS`), or whose account is not a 12-digit account id: no client
 * and no role session is made for it. Findings name both, and anyone who
 * can import a finding writes them.
 */
export class InvalidMemberTargetError extends RiposteError {
  override readonly name: string = 'InvalidMemberTargetError';
  readonly code = 'AWS_INVALID_MEMBER_TARGET';
  constructor(message: string, account: string, region: string) {
    super(message, { context: { account, region }, retryable: false });
  }
}
