import type { AwsClientFactory } from '../../aws/index.js';
import { serializeError, type SerializedError } from '../../errors.js';
import type { Finding } from '../../intake/index.js';
import { publishNotification, runNotification } from './notification.js';
import { publishResultEvent } from './result-event.js';
import { summaryNoteText, type RunSummary } from './run-summary.js';
import { recordOnFinding } from './security-hub-record.js';

/** What became of one kind of record. */
export type RecordingItem =
  { readonly status: 'done'; readonly detail: string } | { readonly status: 'skipped'; readonly detail: string } | { readonly status: 'failed'; readonly error: SerializedError };

/** What the recorder did for one run: the finding's note, the SNS message, the result event. */
export type RecordingReport = Readonly<Record<'note' | 'notification' | 'event', RecordingItem>>;

export interface RecordOptions {
  /** The workflow status to set with the note (only when the run changed something or failed to). */
  readonly workflow?: 'RESOLVED' | 'NOTIFIED';
  /** Whether the run is worth an SNS message (changes, failures, a tripped limit — not every plan). */
  readonly notify: boolean;
}

/**
 * Tells the world how a run ended. Each record is attempted on its own: a
 * failure is reported (and kept in the ledger), never thrown, so one
 * unreachable topic does not hide the note or the event.
 */
export interface RunRecorder {
  record(finding: Finding, summary: RunSummary, options: RecordOptions): Promise<RecordingReport>;
}

export interface AwsRunRecorderOptions {
  /** SNS topic for run notifications; none configured → no message. */
  readonly topicArn?: string;
  /** EventBridge bus for `Riposte Remediation Result` events; none configured → no event. */
  readonly eventBus?: { readonly name: string; readonly region: string };
}

async function attempt(call: () => Promise<string>): Promise<RecordingItem> {
  try {
    return { status: 'done', detail: await call() };
  } catch (error) {
    return { status: 'failed', error: serializeError(error) };
  }
}

/** Records through Security Hub (BatchUpdateFindings), SNS and EventBridge in Riposte's account. */
export class AwsRunRecorder implements RunRecorder {
  readonly #factory: AwsClientFactory;
  readonly #options: AwsRunRecorderOptions;

  constructor(factory: AwsClientFactory, options: AwsRunRecorderOptions) {
    this.#factory = factory;
    this.#options = options;
  }

  async record(finding: Finding, summary: RunSummary, options: RecordOptions): Promise<RecordingReport> {
    const { topicArn, eventBus } = this.#options;
    const [note, notification, event] = await Promise.all([
      recordOnFinding(this.#factory, finding, {
        runId: summary.runId,
        playbookId: summary.playbookId,
        text: summaryNoteText(summary),
        ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
      }).then(
        (result): RecordingItem => ({ status: result.updated ? 'done' : 'skipped', detail: result.summary }),
        (error: unknown): RecordingItem => ({ status: 'failed', error: serializeError(error) }),
      ),
      !options.notify
        ? Promise.resolve<RecordingItem>({ status: 'skipped', detail: 'nothing worth a message (a plan or a skip)' })
        : topicArn === undefined
          ? Promise.resolve<RecordingItem>({ status: 'skipped', detail: 'no SNS topic configured' })
          : attempt(async () => `message ${(await publishNotification(this.#factory, topicArn, runNotification(summary))).messageId} to ${topicArn}`),
      eventBus === undefined
        ? Promise.resolve<RecordingItem>({ status: 'skipped', detail: 'no event bus configured' })
        : attempt(async () => `event ${(await publishResultEvent(this.#factory, { busName: eventBus.name, region: eventBus.region }, summary)).eventId} on ${eventBus.name}`),
    ]);
    return { note, notification, event };
  }
}
