import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';

import { neutraliseJson } from '../neutralise.js';

import { JsonLogFormatter, TextLogItem } from './formatters.js';
import { powertoolsAttributes } from './serialize.js';
import type { LogAttributes, RunLogger } from './types.js';

/** Where lines go instead of Powertools' console: `process.stderr`, a file, a MemoryLogSink. */
export interface LogStream {
  write(chunk: string): unknown;
}

export type RiposteLoggerOptions = ConstructorOptions & {
  /**
   * Lines go here, each ending in a newline, instead of to Powertools'
   * console (stdout, warnings and errors on stderr): in the `logFormatter`'s
   * format, JSON lines (JsonLogFormatter) unless one is given.
   */
  readonly stream?: LogStream;
};

/**
 * AWS Lambda Powertools' Logger, as every part of Riposte logs:
 * - `child(attributes)`: a logger whose every line carries them;
 * - attributes written JSON-safe (errors serialized, bigints as strings,
 *   cycles cut), never throwing, and the keys Powertools keeps for itself
 *   (`level`, `message`, `service`, `timestamp`, `sampling_rate`) written
 *   as `_level`… rather than dropped;
 * - an optional `stream` with a formatter (the CLI's pretty lines on stderr,
 *   a test's MemoryLogSink).
 *
 * Without a stream it is Powertools as Lambda expects it: one JSON object a
 * line on stdout, attributes at the top level, levels from the constructor,
 * `POWERTOOLS_LOG_LEVEL` or `AWS_LAMBDA_LOG_LEVEL`, `injectLambdaContext`…
 *
 * ```ts
 * const logger = new RiposteLogger({ serviceName: 'riposte-intake' });
 * logger.child({ correlationId }).info('delivery received', { findings: 3 });
 * // {"level":"INFO","message":"delivery received","timestamp":"…","service":"riposte-intake","sampling_rate":0,"correlationId":"…","findings":3}
 * ```
 */
/**
 * Powertools prints each line as `JSON.stringify` makes it, through its own
 * `Console`: C0 controls come out escaped, but DEL, C1 controls, bidi
 * controls and U+2028/2029 come out raw, and a finding's text would reach
 * CloudWatch and `aws logs tail` with them. Its console is private, so it is
 * wrapped where it is kept: each line is written through `neutraliseJson`
 * (the same JSON, those characters as `\uXXXX`).
 */
function safeConsole(logger: Logger): void {
  const console = Reflect.get(logger, 'console') as Console | undefined;
  if (console === undefined) return;
  const safe = new Proxy(console, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        (value as (...line: unknown[]) => unknown).apply(
          target,
          args.map((arg) => (typeof arg === 'string' ? neutraliseJson(arg) : arg)),
        );
    },
  });
  Reflect.set(logger, 'console', safe);
}

export class RiposteLogger extends Logger implements RunLogger {
  readonly #stream: LogStream | undefined;

  /** The service name is `riposte` unless given or set in `POWERTOOLS_SERVICE_NAME`. */
  constructor(options: RiposteLoggerOptions = {}) {
    const { stream, ...powertools } = options;
    super({
      ...(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName: 'riposte' }),
      ...(stream === undefined ? {} : { logFormatter: new JsonLogFormatter() }),
      ...powertools,
    } as ConstructorOptions);
    this.#stream = stream;
    if (stream === undefined) safeConsole(this);
  }

  child(attributes: LogAttributes): RiposteLogger {
    // Persistent keys: every line of the child carries them, whatever a handler does with temporary keys between invocations.
    return this.createChild({ persistentKeys: powertoolsAttributes(attributes) });
  }

  override createChild(options?: ConstructorOptions): RiposteLogger {
    return super.createChild(options) as RiposteLogger;
  }

  protected override createLogger(options?: ConstructorOptions): RiposteLogger {
    return new RiposteLogger({ ...options, stream: this.#stream });
  }

  /** Called for each line that passes the level, before Powertools reads its attributes: they must be safe by then. */
  protected override createAndPopulateLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): LogItem {
    const safe = extraInput.map((item: unknown) => (typeof item === 'string' ? item : powertoolsAttributes(item instanceof Error ? { error: item } : (item as LogAttributes))));
    return super.createAndPopulateLogItem(logLevel, input, safe as LogItemExtraInput);
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    // Powertools prints its own set-up warnings from inside its constructor, before this class has its stream: those go to its console.
    const stream = #stream in this ? this.#stream : undefined;
    if (stream === undefined) {
      super.printLog(logLevel, log);
      return;
    }
    try {
      stream.write(`${log instanceof TextLogItem ? log.text : neutraliseJson(JSON.stringify(log.getAttributes(), this.getJsonReplacer()))}\n`);
    } catch {
      // A line that cannot be written (a closed pipe) must never stop a remediation.
    }
  }
}
