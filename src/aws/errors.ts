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
