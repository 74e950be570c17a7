/** The levels a Powertools logger writes, as Riposte's lines name them (lower case). */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';

/**
 * Attributes of a log line. Values may be anything: the logger turns them
 * into JSON-safe values (errors serialized, bigints as strings, cycles cut)
 * and never throws on them.
 */
export type LogAttributes = Readonly<Record<string, unknown>>;

/**
 * What every pipeline stage writes through: less than a Powertools `Logger`
 * on purpose, so a stage cannot change the logger it shares with concurrent
 * runs (`appendKeys`, `setLogLevel`). The pipeline makes a child per
 * delivery, finding and run; every line of a child carries its attributes.
 *
 * ```ts
 * const log = logger.child({ correlationId, findingId: finding.id, account: finding.account });
 * log.info('playbook matched', { playbookId });
 * log.error('step failed', { step: 'ec2.isolate', error });
 * ```
 */
export interface RunLogger {
  // Attributes as a rest parameter, as Powertools' methods take them (several objects are merged, the last one winning).
  debug(message: string, ...attributes: LogAttributes[]): void;
  info(message: string, ...attributes: LogAttributes[]): void;
  warn(message: string, ...attributes: LogAttributes[]): void;
  /**
   * `attributes.error` may be any thrown value: a Riposte error is written as
   * its `toJSON()` (code, context, retryable), another Error as
   * `{ name, message, stack }`, each with its `cause`.
   */
  error(message: string, ...attributes: LogAttributes[]): void;
  /** A logger whose every line also carries these attributes (correlationId, findingId, playbookId, account, region, runId…). */
  child(attributes: LogAttributes): RunLogger;
}
