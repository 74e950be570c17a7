import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

import * as z from '../../zod.js';

import { RESUME_REQUEST_KIND, SQS_MAX_DELAY_SECONDS } from './constants.js';
import { InvalidResumeRequestError, ResumeQueueError } from './errors.js';
import { describeError, isRetryableError } from '../../errors.js';

/** Look at run `runId` again: one of its steps was still in progress. */
export interface ResumeRequest {
  readonly kind: 'riposte.resume';
  readonly runId: string;
  /** Which resume this is: 1 for the first message a run schedules, 2 for the next… (bounded by `maxResumes`). */
  readonly resumes: number;
  readonly correlationId: string;
}

/** How a run with an in-progress step gets looked at again, after a delay. */
export interface ResumeQueue {
  schedule(request: ResumeRequest, delaySeconds: number): Promise<void>;
}

/** The body of a resume message. Unknown fields are ignored, so a newer sender does not break an older reader. */
export const resumeRequestSchema = z.object({
  kind: z.literal(RESUME_REQUEST_KIND),
  runId: z.string().check(z.minLength(1), z.maxLength(256)),
  resumes: z.number().check(z.int(), z.minimum(0)),
  correlationId: z.string().check(z.minLength(1), z.maxLength(256)),
});

/** Whole seconds within what SQS accepts per message (0..900): late rather than early, never an error. */
export function clampDelaySeconds(seconds: number): number {
  if (Number.isNaN(seconds)) return 0;
  return Math.min(SQS_MAX_DELAY_SECONDS, Math.max(0, Math.ceil(seconds)));
}

/** `resumes: Too small: expected number to be >=0`: zod's own per-field messages (the bodies read here are flat), `(body)` for the object as a whole. */
const issueText = (error: z.core.$ZodError): string => {
  const { formErrors, fieldErrors } = z.flattenError(error);
  return [...formErrors.map((message) => `(body): ${message}`), ...Object.entries(fieldErrors).map(([field, messages]) => `${field}: ${(messages as string[]).join(', ')}`)].join('; ');
};

/** The request exactly as sent (only its own fields), or a typed error for one that a reader would reject. */
function checked(request: ResumeRequest): ResumeRequest {
  const parsed = resumeRequestSchema.safeParse(request);
  if (!parsed.success) {
    const runId = typeof request.runId === 'string' ? request.runId : undefined;
    throw new InvalidResumeRequestError(`not a valid resume request${runId === undefined ? '' : ` for run ${runId}`}: ${issueText(parsed.error)}`, runId === undefined ? {} : { runId }, parsed.error);
  }
  return parsed.data;
}

/**
 * Resume requests as SQS messages with a per-message delay (`DelaySeconds`,
 * at most 15 minutes: longer waits are clamped and the run is simply looked
 * at again sooner). Standard queues only: FIFO queues cannot delay single
 * messages.
 */
export class SqsResumeQueue implements ResumeQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  /** @throws ResumeQueueError for a FIFO queue URL. */
  constructor(sqs: SQSClient, queueUrl: string) {
    if (queueUrl.endsWith('.fifo')) {
      throw new ResumeQueueError(`resume requests need a standard queue: FIFO queues cannot delay single messages (${queueUrl})`, { resource: queueUrl });
    }
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
  }

  /** @throws ResumeQueueError when SQS refuses the message or cannot be reached (retryable when throttled, 5xx or a network error). */
  async schedule(request: ResumeRequest, delaySeconds: number): Promise<void> {
    const body = checked(request);
    try {
      await this.#sqs.send(new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: clampDelaySeconds(delaySeconds) }));
    } catch (error) {
      throw new ResumeQueueError(
        `scheduling the resume of run ${body.runId} failed: ${describeError(error)}`,
        { resource: this.#queueUrl, runId: body.runId, correlationId: body.correlationId },
        { cause: error, retryable: isRetryableError(error) },
      );
    }
  }
}

/** One request a {@link MemoryResumeQueue} holds. */
export interface ScheduledResume {
  readonly request: ResumeRequest;
  /** As SQS would apply it: clamped to 0..900. */
  readonly delaySeconds: number;
  /** ISO 8601: when it was scheduled. */
  readonly at: string;
}

/** Resume requests kept in memory, clamped as SQS would: for the CLI and tests. */
export class MemoryResumeQueue implements ResumeQueue {
  readonly scheduled: ScheduledResume[] = [];
  readonly #now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  async schedule(request: ResumeRequest, delaySeconds: number): Promise<void> {
    this.scheduled.push({ request: checked(request), delaySeconds: clampDelaySeconds(delaySeconds), at: this.#now().toISOString() });
  }

  /** Removes and returns the requests whose delay has passed at `now`, oldest first. */
  take(now: Date = this.#now()): ResumeRequest[] {
    const due = (entry: ScheduledResume): boolean => Date.parse(entry.at) + entry.delaySeconds * 1_000 <= now.getTime();
    const taken = this.scheduled.filter(due);
    const left = this.scheduled.filter((entry) => !due(entry));
    this.scheduled.splice(0, this.scheduled.length, ...left);
    return taken.map((entry) => entry.request);
  }
}

/** A resume request as read from a queue, with the id of the message that carried it (for a partial batch failure). */
export interface ReceivedResumeRequest {
  readonly messageId: string;
  readonly request: ResumeRequest;
}

const sqsEventSchema = z.object({ Records: z.array(z.unknown()) });
const sqsRecordSchema = z.object({ messageId: z.string().check(z.minLength(1)), body: z.string() });

/**
 * Reads the resume requests in a Lambda SQS event. Each record is checked on
 * its own: one that is not a resume request becomes a typed error naming its
 * message id — never a throw — so the others still run, and the bad one is
 * dropped rather than redelivered (a retry cannot fix it).
 */
export function readResumeRequests(sqsEvent: unknown): { requests: ResumeRequest[]; errors: InvalidResumeRequestError[]; received: ReceivedResumeRequest[] } {
  const received: ReceivedResumeRequest[] = [];
  const errors: InvalidResumeRequestError[] = [];
  const event = sqsEventSchema.safeParse(sqsEvent);
  if (!event.success) {
    errors.push(new InvalidResumeRequestError(`not an SQS event: ${issueText(event.error)}`, { field: 'Records' }, event.error));
    return { requests: [], errors, received };
  }
  event.data.Records.forEach((raw, index) => {
    const field = `Records[${index}]`;
    const record = sqsRecordSchema.safeParse(raw);
    if (!record.success) {
      const messageId = typeof (raw as { messageId?: unknown } | null)?.messageId === 'string' ? (raw as { messageId: string }).messageId : undefined;
      errors.push(
        new InvalidResumeRequestError(`SQS record ${messageId ?? field} is not an SQS message: ${issueText(record.error)}`, { field, ...(messageId === undefined ? {} : { messageId }) }, record.error),
      );
      return;
    }
    const { messageId, body } = record.data;
    let parsedBody: unknown;
    try {
      parsedBody = JSON.parse(body);
    } catch (error) {
      errors.push(new InvalidResumeRequestError(`SQS message ${messageId}: body is not JSON (${describeError(error)})`, { messageId, field: `${field}.body` }, error));
      return;
    }
    const request = resumeRequestSchema.safeParse(parsedBody);
    if (!request.success) {
      const first = request.error.issues[0]?.path.map(String).join('.');
      const runId = typeof (parsedBody as { runId?: unknown } | null)?.runId === 'string' ? (parsedBody as { runId: string }).runId : undefined;
      errors.push(
        new InvalidResumeRequestError(
          `SQS message ${messageId} is not a resume request: ${issueText(request.error)}`,
          { messageId, field: first === undefined || first === '' ? `${field}.body` : `${field}.body.${first}`, ...(runId === undefined ? {} : { runId }) },
          request.error,
        ),
      );
      return;
    }
    received.push({ messageId, request: request.data });
  });
  return { requests: received.map((entry) => entry.request), errors, received };
}
