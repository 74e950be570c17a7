import { Logger } from '@aws-lambda-powertools/logger';

import { toLogAttributes } from './serialize.js';
import type { LogAttributes, LogLevel, RunLogger } from './types.js';

export interface PowertoolsRunLoggerOptions {
  /** The `service` key of every line; default `riposte`. */
  readonly serviceName?: string;
  /**
   * The lowest level written. Without it, Powertools' own order applies
   * (`POWERTOOLS_LOG_LEVEL`, then `INFO`); Lambda's advanced logging
   * controls (`AWS_LAMBDA_LOG_LEVEL`) override it either way.
   */
  readonly level?: LogLevel;
  /** A Powertools logger to write through (e.g. one a handler already set up); never changed, children are made from it. */
  readonly logger?: Logger;
}

/**
 * Keys Powertools keeps for itself (it drops them from attributes, with a
 * warning line): an attribute so named is written as `_<key>` instead.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

function powertoolsAttributes(attributes: LogAttributes | undefined): Record<string, unknown> {
  const safe = toLogAttributes(attributes);
  if (!Object.keys(safe).some((key) => RESERVED_KEYS.has(key))) return safe;
  return Object.fromEntries(Object.entries(safe).map(([key, value]) => [RESERVED_KEYS.has(key) ? `_${key}` : key, value]));
}

class PowertoolsRunLogger implements RunLogger {
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  debug(message: string, attributes?: LogAttributes): void {
    this.#logger.debug(message, powertoolsAttributes(attributes));
  }

  info(message: string, attributes?: LogAttributes): void {
    this.#logger.info(message, powertoolsAttributes(attributes));
  }

  warn(message: string, attributes?: LogAttributes): void {
    this.#logger.warn(message, powertoolsAttributes(attributes));
  }

  error(message: string, attributes?: LogAttributes): void {
    this.#logger.error(message, powertoolsAttributes(attributes));
  }

  child(attributes: LogAttributes): RunLogger {
    // Persistent keys: every line of the child carries them, whatever Powertools does between invocations.
    return new PowertoolsRunLogger(this.#logger.createChild({ persistentKeys: powertoolsAttributes(attributes) }));
  }
}

/**
 * The Lambda handlers' logger: AWS Lambda Powertools, one JSON object per
 * line (`level`, `message`, `service`, `timestamp`, `xray_trace_id` and the
 * attributes at the top level, ready for CloudWatch Logs Insights).
 *
 * ```ts
 * const logger = powertoolsRunLogger({ serviceName: 'riposte-intake' });
 * logger.child({ correlationId }).info('delivery received', { findings: 3 });
 * // {"level":"INFO","message":"delivery received","service":"riposte-intake","timestamp":"…","correlationId":"…","findings":3}
 * ```
 */
export function powertoolsRunLogger(options: PowertoolsRunLoggerOptions = {}): RunLogger {
  const logLevel = options.level?.toUpperCase() as Uppercase<LogLevel> | undefined;
  let logger: Logger;
  if (options.logger === undefined) {
    logger = new Logger({ serviceName: options.serviceName ?? 'riposte', ...(logLevel === undefined ? {} : { logLevel }) });
  } else if (logLevel !== undefined || options.serviceName !== undefined) {
    logger = options.logger.createChild({ ...(logLevel === undefined ? {} : { logLevel }), ...(options.serviceName === undefined ? {} : { serviceName: options.serviceName }) });
  } else {
    logger = options.logger;
  }
  return new PowertoolsRunLogger(logger);
}
