import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';

import type { RunRecord } from '../../src/ledger/index.js';
import { MemoryResumeQueue } from '../../src/pipeline/index.js';
import { eventFor, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

describe('a Lambda running out of time', () => {
  it('stops between steps, saves the run and resumes it instead of being cut off mid-change', async () => {
    const queue = new MemoryResumeQueue();
    lab = await pipelineLab({ settings: { automatic: 'enforce' }, resumeQueue: queue });
    const iam = lab.clients.create(IAMClient, target);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));

    // 10 s left: under the 30 s margin, so no step starts.
    const first = (await lab.pipeline.handleEvent(eventFor('securityhub-imported-cis-password-policy.json', MEMBER), { remainingTimeMs: () => 10_000 })).findings[0]?.runs[0];

    expect(first).toMatchObject({ status: 'in-progress', resume: { delaySeconds: 1 } });
    expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength).toBe(8);
    const saved = (await lab.ledger.getRun(first?.runId as string)) as RunRecord;
    expect(saved.status).toBe('in-progress');
    expect(saved.steps.map((step) => step.phase)).toEqual(['plan']);
    expect(queue.scheduled).toHaveLength(1);

    // The resume (what the SQS message brings back), with time to spare.
    const [request] = queue.take(new Date(Date.now() + 5_000));
    expect(request).toMatchObject({ kind: 'riposte.resume', runId: first?.runId, resumes: 1, correlationId: saved.correlationId });
    const resumed = await lab.pipeline.resume(request as NonNullable<typeof request>, { remainingTimeMs: () => 600_000 });

    expect(resumed).toMatchObject({ status: 'succeeded', workflowStatus: 'RESOLVED', runId: first?.runId });
    expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength).toBe(14);
    const done = (await lab.ledger.getRun(first?.runId as string)) as RunRecord;
    expect(done.steps.map((step) => `${step.phase}:${step.status}`)).toEqual(['plan:changed', 'run:changed', 'verify:compliant']);
    // Resuming a finished run does nothing.
    expect(await lab.pipeline.resume(request as NonNullable<typeof request>)).toMatchObject({ status: 'duplicate' });
  });
});
