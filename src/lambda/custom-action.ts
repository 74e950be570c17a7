import { IntakeError, readEvent, type IntakeResult } from '../intake/index.js';
import { DeliveryRetryError } from './errors.js';
import { MetricCounts, RiposteMetric } from './metrics.js';
import { deliveryRetryReasons } from './outcome.js';
import { containerRuntime, type LambdaRuntime } from './runtime.js';
import { remainingTime } from './sqs-batch.js';
import type { LambdaContext } from './types.js';

/** The only event this function takes: an analyst picked a Riposte action in the Security Hub console. */
export const CUSTOM_ACTION_DETAIL_TYPE = 'Security Hub Findings - Custom Action';

/** What the function returns (EventBridge ignores it; logs and tests read it). */
export interface CustomActionOutcome {
  readonly correlationId?: string;
  /** Set when the event was dropped unread, with why. */
  readonly dropped?: string;
  readonly runs: ReadonlyArray<{ readonly findingId: string; readonly playbookId: string; readonly runId?: string; readonly status: string; readonly summary: string }>;
}

/**
 * A `Security Hub Findings - Custom Action` event, delivered by EventBridge
 * to the function directly. Its findings go to the playbooks bound to that
 * action id and to no other: each compiled rule's custom-action branch
 * requires `trigger.actionId` to equal its own `customAction.id`.
 *
 * An event this function cannot read, or of another kind, is logged,
 * counted and dropped (returning normally: an asynchronous retry would
 * fail the same way). A run that must run again makes the invocation
 * throw: Lambda retries it, then hands it to the function's on-failure
 * destination.
 */
export async function handleCustomActionEvent(event: unknown, context: LambdaContext, runtime: LambdaRuntime): Promise<CustomActionOutcome> {
  const counts = new MetricCounts();
  try {
    let intake: IntakeResult;
    try {
      intake = readEvent(event, { origin: 'custom-action' });
    } catch (error) {
      if (!(error instanceof IntakeError)) throw error;
      runtime.logger.error('event dropped: not an event Riposte can read, and a retry cannot change that', { error });
      counts.add(RiposteMetric.MalformedRecordsDropped);
      return { dropped: error.message, runs: [] };
    }
    const { id, detailType, source } = intake.envelope;
    if (detailType !== CUSTOM_ACTION_DETAIL_TYPE) {
      const dropped = `${source} "${detailType}" is not a custom action: this function takes "${CUSTOM_ACTION_DETAIL_TYPE}" events only`;
      runtime.logger.error('event dropped', { correlationId: id, reason: dropped });
      counts.add(RiposteMetric.MalformedRecordsDropped);
      return { correlationId: id, dropped, runs: [] };
    }
    const result = await runtime.pipeline.handleIntake(intake, { correlationId: id, remainingTimeMs: remainingTime(context) });
    counts.addDelivery(result);
    const reasons = deliveryRetryReasons(result);
    if (reasons.length > 0) {
      runtime.logger.warn('custom action to be retried', { correlationId: id, reasons });
      throw new DeliveryRetryError(reasons, { correlationId: id });
    }
    return {
      correlationId: id,
      runs: result.findings.flatMap((finding) =>
        finding.runs.map((run) => ({ findingId: finding.findingId, playbookId: run.playbookId, ...(run.runId === undefined ? {} : { runId: run.runId }), status: run.status, summary: run.summary })),
      ),
    };
  } finally {
    runtime.metrics.publish(counts.points());
  }
}

/**
 * The custom-action function: EventBridge (one rule per action id, from
 * the playbooks) → here.
 *
 * ```ts
 * // handlers/custom-action.ts
 * export const handler = customActionHandler();
 * ```
 */
export function customActionHandler(runtime: () => Promise<LambdaRuntime> = containerRuntime()): (event: unknown, context: LambdaContext) => Promise<CustomActionOutcome> {
  return async (event, context) => handleCustomActionEvent(event, context, await runtime());
}
