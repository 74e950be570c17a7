import { toLogAttributes } from './serialize.js';
import { levelEnabled, type LogAttributes, type LogLevel, type RunLogger } from './types.js';

/** Where lines go: `process.stderr` by default, or any stream with `write`. */
export interface LogStream {
  write(chunk: string): unknown;
}

export interface ConsoleRunLoggerOptions {
  /** The lowest level written; default `info`. */
  readonly level?: LogLevel;
  /** Default `process.stderr`, so the CLI's results on stdout stay clean for pipes. */
  readonly stream?: LogStream;
  /** `pretty` (default): one readable line; `json`: one JSON object a line. */
  readonly format?: 'pretty' | 'json';
  /** For tests; default the current time. */
  readonly clock?: () => Date;
}

/** Shown in pretty lines, first, as `cid=` and this many characters (a UUID's first group). */
const SHORT_CORRELATION_ID = 8;

const two = (value: number): string => String(value).padStart(2, '0');

/** Local time, `12:01:02`: the CLI runs on the reader's own clock. */
const clockTime = (time: Date): string => `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;

/** Bare when it reads unambiguously, quoted otherwise. */
function prettyText(text: string): string {
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

function prettyValue(key: string, value: unknown): string {
  if (typeof value === 'string') return prettyText(value);
  if (key === 'error' && typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
    // A serialized error reads best as `CODE: message` (or `TypeError: message`); the JSON format keeps all of it.
    const { code, name, message } = value as { code?: unknown; name?: unknown; message: string };
    const label = typeof code === 'string' ? code : typeof name === 'string' ? name : 'Error';
    return prettyText(`${label}: ${message}`);
  }
  return JSON.stringify(value) ?? String(value);
}

function prettyLine(time: Date, level: LogLevel, message: string, attributes: Record<string, unknown>): string {
  const { correlationId, ...rest } = attributes;
  const pairs: string[] = [];
  if (correlationId !== undefined) {
    const text = typeof correlationId === 'string' ? correlationId.slice(0, SHORT_CORRELATION_ID) : String(correlationId);
    pairs.push(`cid=${prettyText(text)}`);
  }
  for (const [key, value] of Object.entries(rest)) pairs.push(`${key}=${prettyValue(key, value)}`);
  const head = `${clockTime(time)} ${level.toUpperCase().padEnd(5)} ${message.replace(/\r?\n/g, ' ⏎ ')}`;
  return pairs.length === 0 ? head : `${head}  ${pairs.join(' ')}`;
}

function jsonLine(time: Date, level: LogLevel, message: string, attributes: Record<string, unknown>): string {
  return JSON.stringify({ time: time.toISOString(), level, message, attributes });
}

interface ConsoleSettings {
  readonly level: LogLevel;
  readonly stream: LogStream;
  readonly format: 'pretty' | 'json';
  readonly clock: () => Date;
}

class ConsoleRunLogger implements RunLogger {
  readonly #settings: ConsoleSettings;
  readonly #attributes: Record<string, unknown>;

  constructor(settings: ConsoleSettings, attributes: Record<string, unknown>) {
    this.#settings = settings;
    this.#attributes = attributes;
  }

  debug(message: string, attributes?: LogAttributes): void {
    this.#write('debug', message, attributes);
  }

  info(message: string, attributes?: LogAttributes): void {
    this.#write('info', message, attributes);
  }

  warn(message: string, attributes?: LogAttributes): void {
    this.#write('warn', message, attributes);
  }

  error(message: string, attributes?: LogAttributes): void {
    this.#write('error', message, attributes);
  }

  child(attributes: LogAttributes): RunLogger {
    return new ConsoleRunLogger(this.#settings, { ...this.#attributes, ...toLogAttributes(attributes) });
  }

  #write(level: LogLevel, message: string, attributes: LogAttributes | undefined): void {
    const { level: threshold, stream, format, clock } = this.#settings;
    if (!levelEnabled(threshold, level)) return;
    try {
      const merged = { ...this.#attributes, ...toLogAttributes(attributes) };
      const line = format === 'json' ? jsonLine(clock(), level, message, merged) : prettyLine(clock(), level, message, merged);
      stream.write(`${line}\n`);
    } catch {
      // A log line that cannot be written (a closed pipe) must never stop a remediation.
    }
  }
}

/**
 * The CLI's logger. `pretty`:
 * `12:01:02 INFO  playbook matched  cid=3f2a9c1b findingId=… playbookId=ec2-compromise-isolate`
 * (local time; the correlation id cut to its first 8 characters);
 * `json`: `{"time":"…","level":"info","message":"…","attributes":{…}}` a line.
 */
export function consoleRunLogger(options: ConsoleRunLoggerOptions = {}): RunLogger {
  return new ConsoleRunLogger(
    { level: options.level ?? 'info', stream: options.stream ?? process.stderr, format: options.format ?? 'pretty', clock: options.clock ?? (() => new Date()) },
    {},
  );
}
