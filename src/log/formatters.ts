import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

import { neutralise, neutraliseJson } from '../neutralise.js';

/** A line as the CLI's JSON format writes it: the attributes apart, so none can be taken for the line's own keys. */
function jsonLine(attributes: UnformattedAttributes, lineAttributes: LogAttributes): LogAttributes {
  return { time: attributes.timestamp.toISOString(), level: attributes.logLevel.toLowerCase(), message: attributes.message, attributes: lineAttributes };
}

/**
 * One JSON object a line, for a terminal or a file:
 * `{"time":"2026-11-24T12:01:02.003Z","level":"info","message":"run started","attributes":{"correlationId":"…","mode":"plan"}}`.
 * (Lambda keeps Powertools' own format, attributes at the top level for CloudWatch Logs Insights.)
 */
export class JsonLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    return new LogItem({ attributes: jsonLine(attributes, additionalLogAttributes) });
  }
}

/** A log item that reads as a line of text; its attributes are what a JSON writer would print instead. */
export class TextLogItem extends LogItem {
  readonly text: string;

  constructor(text: string, attributes: LogAttributes) {
    super({ attributes });
    this.text = text;
  }
}

/** Shown in pretty lines, first, as `cid=` and this many characters (a UUID's first group). */
const SHORT_CORRELATION_ID = 8;

const two = (value: number): string => String(value).padStart(2, '0');

/**
 * Bare when it reads unambiguously, quoted otherwise. Pretty lines go to a
 * terminal and quote findings: no control or bidi character is written raw
 * (quoted text as JSON escapes them, bare text never holds one).
 */
function prettyText(text: string): string {
  return /^[^\s"=]+$/.test(text) && neutralise(text) === text ? text : neutraliseJson(JSON.stringify(text));
}

/** Keys are Riposte's own, but an object logged whole brings its keys along: they are neutralised like values. */
const prettyKey = (key: string): string => neutralise(key);

function prettyValue(key: string, value: unknown): string {
  if (typeof value === 'string') return prettyText(value);
  if (key === 'error' && typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
    // A serialized error reads best as `CODE: message` (or `TypeError: message`); the JSON format keeps all of it.
    const { code, name, message } = value as { code?: unknown; name?: unknown; message: string };
    const label = typeof code === 'string' ? code : typeof name === 'string' ? name : 'Error';
    return prettyText(`${label}: ${message}`);
  }
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? prettyText(String(value)) : neutraliseJson(json);
}

/**
 * One readable line, for the CLI:
 * `12:01:02 INFO  playbook matched  cid=3f2a9c1b findingId=… playbookId=ec2-compromise-isolate`
 * (local time, the reader's own clock; the correlation id first, cut to its first 8 characters).
 */
export class PrettyLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const { correlationId, ...rest } = additionalLogAttributes;
    const pairs: string[] = [];
    if (correlationId !== undefined) {
      const text = typeof correlationId === 'string' ? correlationId.slice(0, SHORT_CORRELATION_ID) : JSON.stringify(correlationId);
      pairs.push(`cid=${prettyText(text)}`);
    }
    for (const [key, value] of Object.entries(rest)) pairs.push(`${prettyKey(key)}=${prettyValue(key, value)}`);
    const time = attributes.timestamp;
    const clock = `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;
    const head = `${clock} ${attributes.logLevel.toUpperCase().padEnd(5)} ${neutralise(attributes.message.replace(/\r?\n/g, ' ⏎ '))}`;
    return new TextLogItem(pairs.length === 0 ? head : `${head}  ${pairs.join(' ')}`, jsonLine(attributes, additionalLogAttributes));
  }
}
