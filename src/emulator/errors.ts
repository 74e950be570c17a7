import { RiposteError, type ErrorContext } from '../errors.js';

/** `moto_server` is missing or would not start; nothing else can run without it. */
export class EmulatorStartError extends RiposteError {
  override readonly name: string = 'EmulatorStartError';
  readonly code = 'AWS_EMULATOR_START_FAILED';
  constructor(message: string, cause?: unknown) {
    super(message, { cause, context: { operation: 'start moto_server' } });
  }
}

/**
 * The AWS emulator answered an operation it does not implement (moto answers
 * those with an HTML page, not an AWS error). Retrying cannot help; the test
 * or feature needs a mock for this call, or a design that avoids it.
 */
export class EmulatorUnsupportedOperationError extends RiposteError {
  override readonly name: string = 'EmulatorUnsupportedOperationError';
  readonly code = 'AWS_EMULATOR_UNSUPPORTED_OPERATION';
  readonly service: string;
  readonly operation: string;
  readonly statusCode: number;

  constructor(service: string, operation: string, statusCode: number, context: ErrorContext = {}) {
    super(`the emulator does not implement ${service}.${operation} (it answered HTTP ${statusCode} with an HTML page instead of an AWS response)`, {
      context: { ...context, operation: `${service}.${operation}`, statusCode },
    });
    this.service = service;
    this.operation = operation;
    this.statusCode = statusCode;
  }
}

/**
 * The emulator refused a call under IAM enforcement with a bare page instead
 * of an AWS error (moto does so for DynamoDB, SQS, EventBridge, SSM and
 * Security Hub). Carries a 403 status, so callers treat it as AWS's own
 * access denial.
 */
export class EmulatorAccessDeniedError extends RiposteError {
  override readonly name: string = 'EmulatorAccessDeniedError';
  readonly code = 'AWS_ACCESS_DENIED';
  readonly $metadata = { httpStatusCode: 403 };
  constructor(service: string, operation: string) {
    super(`access denied to ${service}.${operation} (the emulator answered HTTP 403 without an AWS error)`, {
      context: { operation: `${service}.${operation}`, statusCode: 403 },
    });
  }
}
