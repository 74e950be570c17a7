import { readConfigComplianceChange } from './config-rules.js';
import { customActionTrigger } from './custom-action.js';
import { parseEnvelope, type ParsedEnvelope } from './envelope.js';
import { MalformedEventError, UnsupportedEventError } from './errors.js';
import { readGuardDutyFinding } from './guardduty.js';
import { describeNonEvent, describeUnsupportedEvent } from './input-kinds.js';
import { MAX_EVENT_BYTES, readJsonObject } from './raw-input.js';
import { readAsffFindings } from './security-hub-asff.js';
import { readOcsfFindings } from './security-hub-ocsf.js';
import type { IntakeResult, Trigger } from './types.js';

/** One kind of EventBridge event Riposte consumes, and how to read it. */
export interface EventReader {
  readonly source: string;
  readonly detailType: string;
  read(parsed: ParsedEnvelope): IntakeResult;
}

const AUTOMATIC: Trigger = Object.freeze({ kind: 'automatic' });

/**
 * Every kind of EventBridge event Riposte reads; any other is refused with
 * the list of these. (The playbooks' generated event patterns deliver only
 * these kinds: `test/playbooks` checks that they never name another.)
 */
export const EVENT_READERS: readonly EventReader[] = Object.freeze([
  {
    source: 'aws.securityhub',
    detailType: 'Security Hub Findings - Imported',
    read: (parsed: ParsedEnvelope) => readAsffFindings(parsed, AUTOMATIC),
  },
  {
    source: 'aws.securityhub',
    detailType: 'Security Hub Findings - Custom Action',
    read: (parsed: ParsedEnvelope) => readAsffFindings(parsed, customActionTrigger(parsed)),
  },
  {
    source: 'aws.securityhub',
    detailType: 'Findings Imported V2',
    read: (parsed: ParsedEnvelope) => readOcsfFindings(parsed, AUTOMATIC),
  },
  { source: 'aws.guardduty', detailType: 'GuardDuty Finding', read: readGuardDutyFinding },
  { source: 'aws.config', detailType: 'Config Rules Compliance Change', read: readConfigComplianceChange },
]);

const SUPPORTED = EVENT_READERS.map((reader) => `${reader.source} "${reader.detailType}"`);

export interface ReadEventOptions {
  /** Names the input in errors when the event has no usable `source` (a file name, `sqs:<message id>`). */
  readonly origin?: string;
  readonly maxBytes?: number;
}

/**
 * Intake's entry point for EventBridge events: a JSON string, Buffer or
 * parsed object in; the findings it carries out, with a typed error beside
 * them for each finding that could not be read.
 *
 * @throws IntakeError (only) when the event as a whole cannot be read; for
 * input that is no EventBridge event at all (a bare finding, a PutEvents
 * entry, a Config rule's invocation) or an event of a kind Riposte does not
 * consume, the message says what it is and what Riposte expected.
 */
export function readEvent(input: unknown, options: ReadEventOptions = {}): IntakeResult {
  const origin = options.origin ?? 'event';
  const event = readJsonObject(input, origin, options.maxBytes ?? MAX_EVENT_BYTES);
  const notAnEvent = describeNonEvent(event);
  if (notAnEvent !== undefined) throw new MalformedEventError(notAnEvent, origin);
  const parsed = parseEnvelope(event, origin);
  const { source, detailType } = parsed.envelope;
  const reader = EVENT_READERS.find((candidate) => candidate.source === source && candidate.detailType === detailType);
  if (reader === undefined) {
    const sourceRead = EVENT_READERS.some((candidate) => candidate.source === source);
    throw new UnsupportedEventError(source, detailType, SUPPORTED, describeUnsupportedEvent(source, detailType, parsed.detail, sourceRead));
  }
  return reader.read(parsed);
}
