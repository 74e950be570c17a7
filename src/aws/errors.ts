import { RiposteError, type ErrorContext } from '../errors.js';

/**
 * The AWS emulator answered an operation it does not implement (moto answers
 * those with an HTML page, not an AWS error). Retrying cannot help; the test
 * or feature needs a mock for this call, or a design that avoids it.
 */
export class EmulatorUnsupportedOperationError extends RiposteError {
  readonly code = 'AWS_EMULATOR_UNSUPPORTED_OPERATION';
  readonly service: string;
  readonly operation: string;
  readonly statusCode: number;

  constructor(service: string, operation: string, statusCode: number, context: ErrorContext = {}) {
    super(
      `the emulator does not implement ${service}.${operation} (it answered HTTP ${statusCode} with an HTML page instead of an AWS response)`,
      { context: { ...context, operation: `${service}.${operation}`, statusCode } },
    );
    this.service = service;
    this.operation = operation;
    this.statusCode = statusCode;
  }
}

/**
 * STS refused to let Riposte assume the member role. Most often the role is
 * not deployed in that account, its trust policy does not name Riposte's
 * account, or the external ID differs.
 */
export class AssumeRoleDeniedError extends RiposteError {
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
  readonly code = 'AWS_ASSUME_ROLE_FAILED';
  constructor(roleArn: string, account: string, region: string, cause: unknown) {
    super(`cannot assume ${roleArn} in account ${account}: ${(cause as Error)?.message ?? String(cause)}`, {
      context: { account, region, resource: roleArn },
      cause,
      retryable: true,
    });
  }
}

/**
 * The emulator refused a call under IAM enforcement with a bare page instead
 * of an AWS error (moto does so for DynamoDB, SQS, EventBridge, SSM and
 * Security Hub). Treated as an access denial.
 */
export class EmulatorAccessDeniedError extends RiposteError {
  readonly code = 'AWS_ACCESS_DENIED';
  readonly $metadata = { httpStatusCode: 403 };
  constructor(service: string, operation: string) {
    super(`access denied to ${service}.${operation} (the emulator answered HTTP 403 without an AWS error)`, {
      context: { operation: `${service}.${operation}`, statusCode: 403 },
    });
  }
}
