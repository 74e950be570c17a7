import { toLogAttributes } from './serialize.js';
import { levelEnabled, type LogAttributes, type LogLevel, type RunLogger } from './types.js';

/** One line, as MemoryRunLogger keeps it. */
export interface MemoryLogEntry {
  readonly level: LogLevel;
  readonly message: string;
  /** The child's attributes and the line's own, merged (the line's win), JSON-safe as a real logger writes them. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface MemoryRunLoggerOptions {
  /** The lowest level kept; default `debug` (everything). */
  readonly level?: LogLevel;
}

/**
 * A logger for tests: keeps every line in `entries`, shared by the logger
 * and all its children, so a test reads one list for the whole run.
 *
 * ```ts
 * const logger = new MemoryRunLogger();
 * await runPipeline(event, { ...services, logger });
 * expect(logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
 * ```
 */
export class MemoryRunLogger implements RunLogger {
  readonly #store: MemoryLogEntry[];
  readonly #level: LogLevel;
  readonly #attributes: Readonly<Record<string, unknown>>;

  /** Set by `child()` just before it constructs the child (synchronously): what the child shares and inherits. */
  static #inherited: { readonly store: MemoryLogEntry[]; readonly attributes: Readonly<Record<string, unknown>> } | undefined;

  constructor(options: MemoryRunLoggerOptions = {}) {
    const inherited = MemoryRunLogger.#inherited;
    MemoryRunLogger.#inherited = undefined;
    this.#store = inherited?.store ?? [];
    this.#level = options.level ?? 'debug';
    this.#attributes = inherited?.attributes ?? {};
  }

  /** Every line kept so far, oldest first (a logger and its children share them). */
  get entries(): readonly MemoryLogEntry[] {
    return this.#store;
  }

  /** Forgets every line (the children's too). */
  clear(): void {
    this.#store.length = 0;
  }

  debug(message: string, attributes?: LogAttributes): void {
    this.#keep('debug', message, attributes);
  }

  info(message: string, attributes?: LogAttributes): void {
    this.#keep('info', message, attributes);
  }

  warn(message: string, attributes?: LogAttributes): void {
    this.#keep('warn', message, attributes);
  }

  error(message: string, attributes?: LogAttributes): void {
    this.#keep('error', message, attributes);
  }

  child(attributes: LogAttributes): MemoryRunLogger {
    MemoryRunLogger.#inherited = { store: this.#store, attributes: { ...this.#attributes, ...toLogAttributes(attributes) } };
    return new MemoryRunLogger({ level: this.#level });
  }

  #keep(level: LogLevel, message: string, attributes: LogAttributes | undefined): void {
    if (!levelEnabled(this.#level, level)) return;
    this.#store.push(Object.freeze({ level, message, attributes: Object.freeze({ ...this.#attributes, ...toLogAttributes(attributes) }) }));
  }
}
