/**
 * The one base class every Riposte error extends.
 *
 * Errors carry the context a responder needs to find the problem (which
 * account, region, resource, playbook, step, event source or field), say
 * whether retrying can help, and keep the underlying `cause`.
 */
export interface ErrorContext {
  readonly account?: string;
  readonly region?: string;
  readonly resource?: string;
  readonly playbook?: string;
  readonly step?: string;
  /** The event source or channel the error came from (e.g. `aws.guardduty`). */
  readonly source?: string;
  /** Dotted path of the offending field, e.g. `detail.findings[1].AwsAccountId`. */
  readonly field?: string;
  readonly [key: string]: string | number | undefined;
}

export interface RiposteErrorOptions {
  readonly context?: ErrorContext;
  readonly cause?: unknown;
  readonly retryable?: boolean;
}

export abstract class RiposteError extends Error {
  /** Stable machine-readable code, e.g. `INTAKE_MALFORMED_EVENT`. */
  abstract readonly code: string;
  readonly context: ErrorContext;
  /** Whether the same call may succeed when repeated (throttling, timeouts). */
  readonly retryable: boolean;

  protected constructor(message: string, options: RiposteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = Object.freeze({ ...options.context });
    this.retryable = options.retryable ?? false;
  }

  /** A plain object for logs and the run ledger (Error fields are not enumerable). */
  toJSON(): { name: string; code: string; message: string; retryable: boolean; context: ErrorContext } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      context: this.context,
    };
  }
}
