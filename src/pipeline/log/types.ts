/** Log levels, least to most severe. */
export const LogLevel = {
  Debug: 'debug',
  Info: 'info',
  Warn: 'warn',
  Error: 'error',
} as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Levels in order of severity: a logger set to one writes it and every later one. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze([LogLevel.Debug, LogLevel.Info, LogLevel.Warn, LogLevel.Error]);

/** Whether a line at `level` is written by a logger set to `threshold`. */
export function levelEnabled(threshold: LogLevel, level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}

/**
 * Attributes of a log line. Values may be anything: each logger turns them
 * into JSON-safe values (errors serialized, bigints as strings, cycles cut)
 * and never throws on them.
 */
export type LogAttributes = Readonly<Record<string, unknown>>;

/**
 * The logger every pipeline stage writes through. One run's lines share a
 * correlation id: the pipeline makes a child per delivery and per finding,
 * and every line of the child carries its attributes.
 *
 * ```ts
 * const log = logger.child({ correlationId, findingId: finding.id, account: finding.account });
 * log.info('playbook matched', { playbookId });
 * log.error('step failed', { step: 'ec2.isolate', error });
 * ```
 */
export interface RunLogger {
  debug(message: string, attributes?: LogAttributes): void;
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  /**
   * `attributes.error` may be any thrown value: a Riposte error is written as
   * its `toJSON()` (code, context, retryable), another Error as
   * `{ name, message, stack }`, each with its `cause`.
   */
  error(message: string, attributes?: LogAttributes): void;
  /** A logger whose every line also carries these attributes (correlationId, findingId, playbookId, account, region, runId…). */
  child(attributes: LogAttributes): RunLogger;
}
