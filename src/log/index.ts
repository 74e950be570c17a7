export type { LogAttributes, LogLevel, RunLogger } from './types.js';
export { RiposteLogger } from './logger.js';
export type { LogStream, RiposteLoggerOptions } from './logger.js';
export { JsonLogFormatter, PrettyLogFormatter } from './formatters.js';
export { MemoryLogSink } from './memory-log-sink.js';
export type { MemoryLogEntry } from './memory-log-sink.js';
export { logCapped, MAX_LINES_PER_KIND } from './capped.js';
export type { CappedLogOptions } from './capped.js';
