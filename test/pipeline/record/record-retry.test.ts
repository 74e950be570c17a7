import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';

import { FindingUpdateError } from '../../../src/actions/index.js';
import { ConfigError, loadConfig } from '../../../src/config.js';
import {
  InvalidRecordRetryRequestError,
  MemoryRecordRetryQueue,
  readRecordRetryRequest,
  RecordRetryQueueError,
  runRecordStatus,
  SqsRecordRetryQueue,
  worthRetrying,
  type RecordRetryRequest,
} from '../../../src/pipeline/record/index.js';

const request: RecordRetryRequest = {
  kind: 'riposte.record-retry',
  runId: 'r-20260314T092107Z-3f9a1c2b4d5e',
  playbookId: 'cis-password-policy',
  correlationId: 'corr-1',
  finding: {
    id: 'arn:aws:securityhub:us-east-1:222222222222:subscription/cis/1.4.0/1.8/finding/1',
    productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    account: '222222222222',
    region: 'us-east-1',
  },
  text: 'RESOLVED: iam.set-password-policy changed MinimumPasswordLength 8→14; verified',
  workflow: 'RESOLVED',
  attempts: 1,
};

const unprocessed = (errorCode: string): FindingUpdateError => new FindingUpdateError(`Security Hub did not update the finding: ${errorCode}`, { errorCode }, { errorCode });
const sdkError = (name: string, httpStatusCode: number): Error => Object.assign(new Error(name), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });

describe('readRecordRetryRequest', () => {
  it('reads back what the recorder sends', () => {
    expect(readRecordRetryRequest(JSON.stringify(request), 'm-1')).toEqual(request);
  });

  it.each([
    ['a body that is not JSON', '{"kind": ', /record-retry message m-1: body is not JSON/],
    ['a resume request', JSON.stringify({ kind: 'riposte.resume', runId: 'r-1', resumes: 1, correlationId: 'c' }), /record-retry message m-1 is not a record-retry request: kind/],
    ['a note of 513 characters', JSON.stringify({ ...request, text: 'x'.repeat(513) }), /text: Too big/],
    ['attempts 0', JSON.stringify({ ...request, attempts: 0 }), /attempts: Too small/],
    ['a finding account that is not 12 digits', JSON.stringify({ ...request, finding: { ...request.finding, account: '2222' } }), /finding\.account/],
  ])('refuses %s with a typed error naming the message', (_name, body, message) => {
    let caught: unknown;
    try {
      readRecordRetryRequest(body, 'm-1');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRecordRetryRequestError);
    expect(caught).toMatchObject({ retryable: false, context: { messageId: 'm-1', source: 'aws:sqs' }, message: expect.stringMatching(message) });
  });

  it('keeps the largest request it accepts far under SQS 256 KB', () => {
    const largest = { ...request, runId: 'r'.repeat(256), playbookId: 'p'.repeat(256), correlationId: 'c'.repeat(256), text: '\u{1F512}'.repeat(256) };
    const body = JSON.stringify({ ...largest, finding: { ...largest.finding, id: 'i'.repeat(512), productArn: 'a'.repeat(512) } });

    expect(readRecordRetryRequest(body).runId).toHaveLength(256);
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThan(4 * 1024);
  });
});

describe('worthRetrying', () => {
  it.each([
    ['UnprocessedFindings FindingNotFound at attempt 1 of 6', unprocessed('FindingNotFound'), 1, true],
    ['UnprocessedFindings FindingNotFound at attempt 6 of 6', unprocessed('FindingNotFound'), 6, false],
    ['V2 UnprocessedFindings ResourceNotFoundException at attempt 2 of 6', unprocessed('ResourceNotFoundException'), 2, true],
    ['UnprocessedFindings ConcurrentUpdateError at attempt 9', unprocessed('ConcurrentUpdateError'), 9, true],
    ['UnprocessedFindings InternalFailure', unprocessed('InternalFailure'), 1, true],
    ['UnprocessedFindings InvalidInput', unprocessed('InvalidInput'), 1, false],
    ['UnprocessedFindings FindingSizeExceeded', unprocessed('FindingSizeExceeded'), 1, false],
    ['UnprocessedFindings DuplicatedFindingIdentifier', unprocessed('DuplicatedFindingIdentifier'), 1, false],
    ['an SDK AccessDeniedException (403)', sdkError('AccessDeniedException', 403), 1, false],
    ['an SDK ThrottlingException (429)', sdkError('ThrottlingException', 429), 1, true],
    ['an SDK InternalException (500)', sdkError('InternalException', 500), 1, true],
  ])('%s → %s', (_name, error, attempts, expected) => {
    expect(worthRetrying(error, attempts, 6)).toBe(expected);
  });
});

describe('runRecordStatus', () => {
  const at = '2026-03-14T09:21:07.000Z';
  const failure = { name: 'FindingUpdateError', code: 'FINDING_UPDATE_FAILED', message: 'Security Hub did not update the finding: FindingNotFound Finding Not Found', retryable: true, context: {} };

  it.each([
    ['a note written', { status: 'done', detail: 'note and workflow RESOLVED written on the finding (BatchUpdateFindings)' } as const, { securityHub: 'done', workflow: 'RESOLVED', attempts: 1 }],
    ['a finding Security Hub does not hold', { status: 'skipped', detail: 'not a Security Hub finding (guardduty): nothing to update' } as const, { securityHub: 'skipped', attempts: 0 }],
    [
      'a failed note with its retry queued',
      { status: 'failed', error: failure, retry: { delaySeconds: 60 } } as const,
      { securityHub: 'pending-retry', workflow: 'RESOLVED', attempts: 1, error: failure },
    ],
    ['a failed note with no retry', { status: 'failed', error: failure } as const, { securityHub: 'failed', workflow: 'RESOLVED', attempts: 1, error: failure }],
  ])('%s', (_name, note, expected) => {
    expect(runRecordStatus(note, 'RESOLVED', at)).toMatchObject({ ...expected, at });
  });

  it('says when the retry comes and why the note did not land', () => {
    expect(runRecordStatus({ status: 'failed', error: failure, retry: { delaySeconds: 60 } }, 'NOTIFIED', at).detail).toBe(
      'not written yet: Security Hub did not update the finding: FindingNotFound Finding Not Found; retried in 60 s',
    );
  });
});

describe('record-retry queues', () => {
  it('refuses a FIFO queue, which cannot delay single messages', () => {
    expect(() => new SqsRecordRetryQueue(new SQSClient({ region: 'us-east-1' }), 'https://sqs.us-east-1.amazonaws.com/123456789012/retry.fifo')).toThrow(RecordRetryQueueError);
  });

  it('clamps delays as SQS would (0..900 s) and refuses an invalid request before sending it', async () => {
    const queue = new MemoryRecordRetryQueue();
    await queue.schedule(request, 3_600);
    await queue.schedule(request, -5);

    expect(queue.scheduled.map((entry) => entry.delaySeconds)).toEqual([900, 0]);
    await expect(queue.schedule({ ...request, text: '' }, 1)).rejects.toBeInstanceOf(InvalidRecordRetryRequestError);
  });
});

describe('loadConfig: the record-retry queue', () => {
  it('is absent unless RIPOSTE_RECORD_RETRY_QUEUE_URL names it', () => {
    expect(loadConfig({ RIPOSTE_RECORD_RETRY_DELAY_SECONDS: '5' }).resources.recordRetry).toBeUndefined();
  });

  it('reads the queue URL, the first delay and the attempts (defaults 60 s and 6)', () => {
    const url = 'https://sqs.us-east-1.amazonaws.com/123456789012/riposte-record-retry';

    expect(loadConfig({ RIPOSTE_RECORD_RETRY_QUEUE_URL: url }).resources.recordRetry).toEqual({ queueUrl: url, delaySeconds: 60, maxAttempts: 6 });
    expect(loadConfig({ RIPOSTE_RECORD_RETRY_QUEUE_URL: url, RIPOSTE_RECORD_RETRY_DELAY_SECONDS: '1', RIPOSTE_RECORD_RETRY_MAX_ATTEMPTS: '3' }).resources.recordRetry).toEqual({
      queueUrl: url,
      delaySeconds: 1,
      maxAttempts: 3,
    });
  });

  it.each([
    ['RIPOSTE_RECORD_RETRY_DELAY_SECONDS', '901'],
    ['RIPOSTE_RECORD_RETRY_MAX_ATTEMPTS', '0'],
    ['RIPOSTE_RECORD_RETRY_QUEUE_URL', 'not a url'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
  });
});
