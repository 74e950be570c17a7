import { RiposteError, type ErrorContext } from '../errors.js';

/**
 * Anything intake rejects. Every intake error names where the input came from
 * (`source`) and, where it is one field's fault, the field's path. None is
 * retryable: the same bytes will fail the same way ("do not waste time
 * retrying"), so callers log, count and record them, then move on.
 */
export abstract class IntakeError extends RiposteError {
  override readonly name: string = 'IntakeError';
  readonly source: string;
  readonly field: string | undefined;

  protected constructor(message: string, source: string, field: string | undefined, context: ErrorContext = {}, cause?: unknown) {
    super(message, { context: { ...context, source, field }, cause, retryable: false });
    this.source = source;
    this.field = field;
  }
}

/** Not JSON, not an object, or a field of the wrong shape or type. */
export class MalformedEventError extends IntakeError {
  override readonly name: string = 'MalformedEventError';
  readonly code = 'INTAKE_MALFORMED_EVENT';
  constructor(message: string, source: string, field?: string, cause?: unknown) {
    super(field === undefined ? `${source}: ${message}` : `${source}: ${field} ${message}`, source, field, {}, cause);
  }
}

/**
 * A source and detail-type Riposte does not consume: the message names the
 * kind (and says what it is when it is one AWS sends beside findings, see
 * input-kinds.ts) and lists the kinds Riposte consumes.
 */
export class UnsupportedEventError extends IntakeError {
  override readonly name: string = 'UnsupportedEventError';
  readonly code = 'INTAKE_UNSUPPORTED_EVENT';
  readonly detailType: string;
  constructor(source: string, detailType: string, supported: readonly string[], description?: string) {
    super(`${source}: unsupported event "${detailType}"${description === undefined ? '' : ` (${description})`}; Riposte consumes: ${supported.join('; ')}`, source, 'detail-type', { detailType });
    this.detailType = detailType;
  }
}

/** Larger than EventBridge allows (256 KB), so not something AWS delivered. */
export class EventTooLargeError extends IntakeError {
  override readonly name: string = 'EventTooLargeError';
  readonly code = 'INTAKE_EVENT_TOO_LARGE';
  readonly bytes: number;
  readonly limit: number;
  constructor(source: string, bytes: number, limit: number) {
    super(`${source}: event is ${bytes} bytes, over the ${limit}-byte limit`, source, undefined, { bytes, limit });
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A key such as `__proto__` or `constructor` that could poison objects built from the event. */
export class ForbiddenKeyError extends IntakeError {
  override readonly name: string = 'ForbiddenKeyError';
  readonly code = 'INTAKE_FORBIDDEN_KEY';
  readonly key: string;
  constructor(source: string, field: string, key: string) {
    // `field` ends with the key: the context needs nothing more.
    super(`${source}: ${field} uses the forbidden key "${key}"`, source, field);
    this.key = key;
  }
}

/**
 * One finding in a batch could not be read. The others in the same event are
 * still delivered; this error travels beside them in `IntakeResult.rejected`.
 */
export class InvalidFindingError extends IntakeError {
  override readonly name: string = 'InvalidFindingError';
  readonly code = 'INTAKE_INVALID_FINDING';
  readonly index: number | undefined;
  readonly findingId: string | undefined;
  constructor(message: string, source: string, field: string, details: { index?: number; findingId?: string; account?: string } = {}) {
    super(`${source}: ${field} ${message}${details.findingId === undefined ? '' : ` (finding ${details.findingId})`}`, source, field, {
      findingIndex: details.index,
      findingId: details.findingId,
      account: details.account,
    });
    this.index = details.index;
    this.findingId = details.findingId;
  }
}

/** An on-demand request that is not valid (bad instance id, account, region, unknown field…). */
export class InvalidApiRequestError extends IntakeError {
  override readonly name: string = 'InvalidApiRequestError';
  readonly code = 'INTAKE_INVALID_API_REQUEST';
  constructor(message: string, field?: string) {
    super(field === undefined ? `api request: ${message}` : `api request: ${field} ${message}`, 'api', field);
  }
}
