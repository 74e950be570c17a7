import { describe, expect, it } from 'vitest';

import { serializeError } from '../../src/errors.js';
import { deliveryRetryReasons, runRetryReason } from '../../src/lambda/index.js';
import { LedgerConflictError } from '../../src/ledger/index.js';
import type { PipelineResult, PlaybookRunResult } from '../../src/pipeline/index.js';

/** Errors as the SDK and Node throw them. */
const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });
const denied = Object.assign(new Error('not authorized to perform ec2:ModifyNetworkInterfaceAttribute'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });

const step = (status: 'changed' | 'failed', error?: unknown) => ({
  index: 0,
  action: 'ec2.isolate',
  phase: 'run' as const,
  status,
  summary: status,
  changes: [],
  at: '2026-03-14T09:21:07.000Z',
  ...(error === undefined ? {} : { error: serializeError(error) }),
});

const run = (extra: Partial<PlaybookRunResult>): PlaybookRunResult => ({
  playbookId: 'ec2-compromise-isolate',
  runId: 'r-20260314T092107Z-0123456789ab',
  status: 'succeeded',
  mode: 'enforce',
  modeReason: 'automatic',
  matched: [],
  summary: 'done',
  steps: [],
  ...extra,
});

describe('runRetryReason: which runs a queue should deliver again', () => {
  it.each([
    ['a step throttled (ThrottlingException)', run({ status: 'failed', steps: [step('changed'), step('failed', throttled)] })],
    ['a step that could not connect (ECONNREFUSED)', run({ status: 'failed', steps: [step('failed', refused)] })],
    ['a run whose ledger write failed (ECONNREFUSED)', run({ status: 'failed', error: serializeError(refused) })],
    ['a failure before any run was recorded, even one a retry cannot change', run({ status: 'failed', runId: undefined, error: serializeError(denied) })],
  ])('redelivers %s', (_name, result) => {
    expect(runRetryReason(result)).toEqual(expect.any(String));
  });

  it.each([
    ['a recorded run whose step was denied (UnauthorizedOperation)', run({ status: 'failed', steps: [step('failed', denied)] })],
    ['a succeeded run', run({})],
    ['a run in progress (the resume queue has it)', run({ status: 'in-progress' })],
    ['a run skipped by a guard', run({ status: 'skipped', guard: { code: 'limit-reached', reason: 'limit' } })],
    [
      'a duplicate that lost a race to another worker (LedgerConflictError is retryable, the work is the other worker’s)',
      run({ status: 'duplicate', error: serializeError(new LedgerConflictError({ runId: 'r', version: 3 } as never, 2)) }),
    ],
  ])('is done with %s', (_name, result) => {
    expect(runRetryReason(result)).toBeUndefined();
  });
});

describe('deliveryRetryReasons', () => {
  it('redelivers an event whose finding could not be matched (nothing recorded it) and names the finding', () => {
    const result: PipelineResult = {
      correlationId: 'c',
      rejected: [],
      findings: [
        { findingId: 'f-1', account: '111122223333', region: 'us-east-1', title: 't', runs: [], error: serializeError(new Error('operator crashed')) },
        { findingId: 'f-2', account: '111122223333', region: 'us-east-1', title: 't', runs: [run({})] },
      ],
    };

    expect(deliveryRetryReasons(result)).toEqual([expect.stringContaining('f-1')]);
  });

  it('is done with findings intake refused (a retry reads the same bytes)', () => {
    const result: PipelineResult = { correlationId: 'c', findings: [], rejected: [serializeError(new Error('bad finding'))] };

    expect(deliveryRetryReasons(result)).toEqual([]);
  });
});
