import { isRetryableError } from '../actions/index.js';
import { RiposteError } from '../errors.js';
import type { SerializedError } from '../ledger/index.js';

/** Any thrown value as the ledger keeps errors: a Riposte error's own JSON, or the name and message of anything else. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof RiposteError) return JSON.parse(JSON.stringify(error.toJSON())) as SerializedError;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown };
  return {
    name: typeof shape.name === 'string' ? shape.name : 'Error',
    code: 'UNEXPECTED',
    message: typeof shape.message === 'string' ? shape.message : String(error),
    retryable: isRetryableError(error),
    context: {},
  };
}
