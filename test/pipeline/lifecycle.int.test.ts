import { IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';

import type { RunRecord, RunStage } from '../../src/ledger/index.js';
import { MemoryResumeQueue } from '../../src/pipeline/index.js';
import { compromisedInstance, eventFor, guardDutyEventFor, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';

/*
 * The run's lifecycle as the ledger keeps it: every run records the stages
 * it went through, in order, each with when — what an auditor reads to see
 * how far a run got and where it stopped.
 */

const MEMBER = '444455556666';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const stages = (record: RunRecord): string[] => record.history.map(({ state }) => ('step' in state ? `${state.stage}(${state.step})` : state.stage));
const recordOf = async (current: PipelineLab, runId: string | undefined): Promise<RunRecord> => (await current.ledger.getRun(runId as string)) as RunRecord;

describe('the run lifecycle in the ledger', () => {
  it('a fix goes claimed → guarded → planned → executing → verifying → succeeded, and the state is where it ended', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    await lab.clients.create(IAMClient, target).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));

    const run = (await lab.pipeline.handleEvent(eventFor('securityhub-imported-cis-password-policy.json', MEMBER))).findings[0]?.runs[0];

    const record = await recordOf(lab, run?.runId);
    expect(stages(record)).toEqual(['claimed', 'guarded', 'planned', 'executing(0)', 'verifying', 'succeeded']);
    expect(record.state).toEqual({ stage: 'succeeded' });
    const times = record.history.map(({ at }) => Date.parse(at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(record.history[0]?.at).toBe(record.createdAt);
  });

  it('a plan ends after planning, and a run stopped by an exemption ends before it', async () => {
    lab = await pipelineLab({ settings: { automatic: 'plan' } });
    const planned = (await lab.pipeline.handleEvent(eventFor('securityhub-imported-cis-password-policy.json', MEMBER))).findings[0]?.runs[0];
    expect(stages(await recordOf(lab, planned?.runId))).toEqual(['claimed', 'guarded', 'planned', 'succeeded']);
    await lab.close();

    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER, { tags: { 'riposte:exempt': 'true' } });
    const exempt = (await lab.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs[0];
    expect(exempt).toMatchObject({ status: 'skipped', guard: { code: 'resource-exempt' } });
    expect(stages(await recordOf(lab, exempt?.runId))).toEqual(['claimed', 'skipped']);
  });

  it('a run short of time is saved paused at its next step, and its resume carries on from there', async () => {
    const queue = new MemoryResumeQueue();
    lab = await pipelineLab({ settings: { automatic: 'enforce' }, resumeQueue: queue });
    await lab.clients.create(IAMClient, target).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));

    const first = (await lab.pipeline.handleEvent(eventFor('securityhub-imported-cis-password-policy.json', MEMBER), { remainingTimeMs: () => 10_000 })).findings[0]?.runs[0];
    const saved = await recordOf(lab, first?.runId);
    expect(saved.state).toEqual({ stage: 'paused', step: 0, resumes: 1, resumeAfterSeconds: 1 });

    const [request] = queue.take(new Date(Date.now() + 5_000));
    await lab.pipeline.resume(request as NonNullable<typeof request>, { remainingTimeMs: () => 600_000 });

    const done = await recordOf(lab, first?.runId);
    expect(stages(done)).toEqual(['claimed', 'guarded', 'planned', 'executing(0)', 'paused(0)', 'verifying', 'succeeded']);
  });

  it('a rollback is a run of its own, claimed → rolling-back → succeeded, and the run it undid ends rolled-back', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    await lab.clients.create(IAMClient, target).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));
    const fix = (await lab.pipeline.handleEvent(eventFor('securityhub-imported-cis-password-policy.json', MEMBER))).findings[0]?.runs[0];

    const rollback = await lab.pipeline.rollback(fix?.runId as string, { requestedBy: 'arn:aws:iam::123456789012:user/analyst' });

    expect(stages(await recordOf(lab, rollback.runId))).toEqual(['claimed', 'rolling-back', 'succeeded']);
    const undone = await recordOf(lab, fix?.runId);
    expect(stages(undone).slice(-2)).toEqual(['succeeded', 'rolled-back']);
    expect(undone.state.stage satisfies RunStage).toBe('rolled-back');
  });
});
