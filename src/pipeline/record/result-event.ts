import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

import type { AwsClientFactory } from '../../aws/index.js';
import { parseArn } from '../../aws-names.js';
import { EVENT_MAX_BYTES, RESULT_EVENT_DETAIL_TYPE, RESULT_EVENT_SOURCE } from './constants.js';
import { ResultEventError, ResultEventTooLargeError, summaryContext } from './errors.js';
import { fitSummary, type TruncatedRunSummary } from './fit-summary.js';
import type { RunSummary } from './run-summary.js';
import { describeError, isRetryableError } from '../../errors.js';

/** Where result events go. */
export interface ResultEventTarget {
  /** The event bus's name or ARN. */
  readonly busName: string;
  readonly region: string;
  /** `Source` of the event; `riposte` unless set. */
  readonly source?: string;
}

/** The `detail` of a `Riposte Remediation Result` event: the run summary, cut down if it had to be. */
export type ResultEventDetail = TruncatedRunSummary;

/**
 * Headroom under EventBridge's 256 KB for what it adds on delivery (the
 * envelope: id, time, account, region…), so the event still fits a target
 * with the same limit, such as an SQS message or SNS notification.
 */
const DELIVERY_HEADROOM_BYTES = 4 * 1024;

/** Failed-entry codes after which sending the same entry again may work. */
const RETRYABLE_ENTRY_CODES = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);

const bytes = (text: string | undefined): number => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

/**
 * An entry's size as EventBridge counts it (14 bytes for `Time`, then the
 * UTF-8 bytes of Source, DetailType, Detail and each resource); the bus name
 * is counted too, to stay on the safe side.
 */
export function eventEntryBytes(entry: PutEventsRequestEntry): number {
  return 14 + bytes(entry.EventBusName) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((total, resource) => total + bytes(resource), 0);
}

/** The resources of the finding that are ARNs (EventBridge's `resources` holds ARNs), each once. */
const resourceArns = (summary: RunSummary): string[] => [...new Set(summary.finding.resources.map((resource) => resource.id).filter((id) => parseArn(id) !== undefined))];

/**
 * The PutEvents entry for a run: under 256 KB with room for EventBridge's
 * envelope. A run too big for that is cut progressively (change values,
 * changes, step summaries, then steps) and its detail says `truncated: true`.
 *
 * @throws ResultEventTooLargeError when even the cut-down event is too big.
 */
export function resultEventEntry(target: ResultEventTarget, summary: RunSummary): PutEventsRequestEntry & { Detail: string } {
  const entryOf = (detail: ResultEventDetail): PutEventsRequestEntry & { Detail: string } => {
    const resources = resourceArns(detail);
    return {
      EventBusName: target.busName,
      Source: target.source ?? RESULT_EVENT_SOURCE,
      DetailType: RESULT_EVENT_DETAIL_TYPE,
      ...(resources.length === 0 ? {} : { Resources: resources }),
      Detail: JSON.stringify(detail),
    };
  };
  const budget = EVENT_MAX_BYTES - DELIVERY_HEADROOM_BYTES;
  const fitted = fitSummary(summary, (candidate) => eventEntryBytes(entryOf(candidate)) <= budget);
  if (fitted === undefined) {
    throw new ResultEventTooLargeError(eventEntryBytes(entryOf(summary)), budget, { ...summaryContext(summary), region: target.region, resource: target.busName });
  }
  return entryOf(fitted);
}

/**
 * Puts a `Riposte Remediation Result` event (source `riposte`) on the bus:
 * the run summary as `detail`, the finding's resource ARNs as `resources`,
 * so rules can route results (to SIEMs, ticketing, chat) without calling
 * Riposte.
 *
 * ```json
 * { "source": ["riposte"], "detail-type": ["Riposte Remediation Result"], "detail": { "status": ["failed"] } }
 * ```
 *
 * @throws ResultEventError when EventBridge fails the entry (its ErrorCode and
 *   ErrorMessage; retryable for throttling and internal failures) or the call fails.
 * @throws ResultEventTooLargeError when even the cut-down event is too big.
 */
export async function publishResultEvent(factory: AwsClientFactory, target: ResultEventTarget, summary: RunSummary): Promise<{ eventId: string }> {
  const context = { ...summaryContext(summary), region: target.region, resource: target.busName };
  const entry = resultEventEntry(target, summary);
  let result;
  try {
    result = await factory.create(EventBridgeClient, { region: target.region }).send(new PutEventsCommand({ Entries: [entry] }));
  } catch (error) {
    throw new ResultEventError(`putting the result event on ${target.busName} failed: ${describeError(error)}`, context, { cause: error, retryable: isRetryableError(error) });
  }
  const [answer] = result.Entries ?? [];
  if ((result.FailedEntryCount ?? 0) > 0 || answer?.ErrorCode !== undefined) {
    const errorCode = answer?.ErrorCode;
    throw new ResultEventError(
      `EventBridge did not take the result event on ${target.busName}: ${errorCode ?? 'unknown error'}${answer?.ErrorMessage === undefined ? '' : ` ${answer.ErrorMessage}`}`,
      { ...context, ...(errorCode === undefined ? {} : { errorCode }) },
      { retryable: errorCode !== undefined && RETRYABLE_ENTRY_CODES.has(errorCode), ...(errorCode === undefined ? {} : { errorCode }) },
    );
  }
  return { eventId: answer?.EventId ?? '' };
}
