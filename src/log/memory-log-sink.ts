import type { LogLevel } from './types.js';

/** One line, as a MemoryLogSink keeps it. */
export interface MemoryLogEntry {
  readonly level: LogLevel;
  readonly message: string;
  /** The child's attributes and the line's own, merged (the line's win), read back from the JSON the logger wrote. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/**
 * Where a test's (or the demo's) logger writes: it reads back every line,
 * as the JSON format wrote it, so what a test sees is what a terminal
 * would. A logger and all its children write to the one sink they were
 * given.
 *
 * ```ts
 * const logs = new MemoryLogSink();
 * await runPipeline(event, { ...services, logger: new RiposteLogger({ logLevel: 'debug', stream: logs }) });
 * expect(logs.entries.filter((entry) => entry.level === 'error')).toEqual([]);
 * ```
 */
export class MemoryLogSink {
  readonly #entries: MemoryLogEntry[] = [];

  /** Every line written so far, oldest first. */
  get entries(): readonly MemoryLogEntry[] {
    return this.#entries;
  }

  /** Forgets every line. */
  clear(): void {
    this.#entries.length = 0;
  }

  /** One line of the JSON format (the default of a logger given a stream). */
  write(chunk: string): void {
    const { level, message, attributes } = JSON.parse(chunk) as MemoryLogEntry;
    this.#entries.push(Object.freeze({ level, message, attributes: Object.freeze(attributes) }));
  }
}
