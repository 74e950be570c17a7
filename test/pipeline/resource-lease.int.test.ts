import { GetAccountPasswordPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import type { MetadataBearer, Pluggable } from '@smithy/types';
import { afterEach, describe, expect, it } from 'vitest';

import type { MemberClients } from '../../src/aws/index.js';
import { idempotencyKey } from '../../src/ledger/index.js';
import { memberClients } from '../support/action-context.js';
import { eventFor, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';

/*
 * One run at a time changes a resource (src/pipeline/guards/resource-lease.ts),
 * and a redelivery takes over a run its own earlier receive left unfinished.
 */

const MEMBER = '222222222222';
const CIS = 'securityhub-imported-cis-password-policy.json';
const FIXTURE_FINDING = 'ed11922f-86d5-48bc-b784-4d69fcf13037';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** Member clients on the emulator whose UpdateAccountPasswordPolicy calls are counted as they are sent. */
function countingMemberClients(): { clients: MemberClients; updates: () => number } {
  let updates = 0;
  const counter: Pluggable<object, MetadataBearer> = {
    applyToStack: (stack) => {
      stack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'UpdateAccountPasswordPolicyCommand') updates += 1;
          return next(args);
        },
        { step: 'initialize', name: 'riposteTestPolicyUpdates' },
      );
    },
  };
  const clients = memberClients([counter]);
  return { clients, updates: () => updates };
}

/** One event carrying `count` findings about the account's password policy (as IAM.7 and IAM.11–17 fail together), each its own finding. */
function passwordPolicyEvent(count: number): Record<string, unknown> {
  const event = eventFor(CIS, MEMBER) as { detail: { findings: Array<Record<string, unknown>> } };
  const text = JSON.stringify(event.detail.findings[0]);
  event.detail.findings = Array.from(
    { length: count },
    (_, index) => JSON.parse(text.replaceAll(FIXTURE_FINDING, `${FIXTURE_FINDING.slice(0, -2)}${String(index).padStart(2, '0')}`)) as Record<string, unknown>,
  );
  return event;
}

describe('one run at a time changes a resource', () => {
  it('sets an account’s password policy once for four findings about it handled at once; the others wait, then find it compliant', async () => {
    const counting = countingMemberClients();
    lab = await pipelineLab({ clients: counting.clients, settings: { automatic: 'enforce', concurrency: 4 } });

    const result = await lab.pipeline.handleEvent(passwordPolicyEvent(4));

    const runs = result.findings.flatMap((finding) => finding.runs ?? []);
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    // Without the lease each run plans against the policy before any change: four plans of a change, and under load four updates.
    expect(counting.updates()).toBe(1);
    const current = lab;
    const records = await Promise.all(runs.map((run) => current.ledger.getRun(run.runId as string)));
    const planned = records.map((record) => record?.steps.find((step) => step.phase === 'plan')?.status).sort();
    expect(planned).toEqual(['changed', 'compliant', 'compliant', 'compliant']);
    expect(lab.logs.entries.filter((entry) => entry.message === 'resource leased by another run: waiting for it to end').length).toBeGreaterThan(0);
    const { PasswordPolicy } = await lab.clients.create(IAMClient, target).send(new GetAccountPasswordPolicyCommand({}));
    expect(PasswordPolicy?.MinimumPasswordLength).toBe(14);
  });
});

describe('a redelivery of the same queue message', () => {
  /** A run of the finding that an earlier receive of message `deliveryId` started and never ended (its ledger writes were refused), holding the finding's idempotency key and the account's lease. */
  async function unfinishedRun(current: PipelineLab, event: Record<string, unknown>, deliveryId: string): Promise<string> {
    const finding = (event.detail as { findings: Array<{ Id: string; UpdatedAt: string }> }).findings[0] as { Id: string; UpdatedAt: string };
    const runId = 'run-left-by-an-earlier-receive';
    await current.ledger.claim(idempotencyKey(finding.Id, finding.UpdatedAt, 'cis-password-policy|automatic|enforce'), runId, 86_400);
    await current.ledger.claim(`lease|aws|${MEMBER}|us-east-1|AwsAccount|${MEMBER}`, runId, 900);
    await current.ledger.startRun({
      runId,
      correlationId: 'earlier',
      findingId: finding.Id,
      findingUpdatedAt: finding.UpdatedAt,
      playbookId: 'cis-password-policy',
      account: MEMBER,
      region: 'us-east-1',
      trigger: 'automatic',
      mode: 'enforce',
      receivedEvent: event,
      deliveryId,
    });
    return runId;
  }

  it('takes over the run its earlier receive left unfinished, and the lease it held', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const event = eventFor(CIS, MEMBER);
    const left = await unfinishedRun(lab, event, 'message-1');

    const result = await lab.pipeline.handleEvent(event, { deliveryId: 'message-1' });

    const [run] = result.findings.flatMap((finding) => finding.runs ?? []);
    expect(run?.status).toBe('succeeded');
    expect((await lab.ledger.getRun(run?.runId as string))?.retryOf).toBe(left);
    expect((await lab.ledger.getRun(left))?.status).toBe('failed');
  });

  it('retries the unfinished run when the claim is held by a retry that left no record (its first write refused), and carries the chain on', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const event = eventFor(CIS, MEMBER);
    const finding = (event.detail as { findings: Array<{ Id: string; UpdatedAt: string }> }).findings[0] as { Id: string; UpdatedAt: string };
    const left = await unfinishedRun(lab, event, 'message-1');
    // A second receive took the claim and the lease over, then the ledger refused its record: the claim names a run with none.
    const key = idempotencyKey(finding.Id, finding.UpdatedAt, 'cis-password-policy|automatic|enforce');
    await lab.ledger.transferClaim(key, left, 'run-with-no-record', 86_400, new Date());
    await lab.ledger.transferClaim(`lease|aws|${MEMBER}|us-east-1|AwsAccount|${MEMBER}`, left, 'run-with-no-record', 900, new Date());

    const result = await lab.pipeline.handleEvent(event, { deliveryId: 'message-1' });

    const [run] = result.findings.flatMap((finding) => finding.runs ?? []);
    expect(run?.status).toBe('succeeded');
    // Found in the ledger: the run before the unrecorded one is what this receive retries, and it ends.
    expect((await lab.ledger.getRun(run?.runId as string))?.retryOf).toBe(left);
    expect((await lab.ledger.getRun(left))?.status).toBe('failed');
  });

  it('leaves a live run of another message alone: a duplicate', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const event = eventFor(CIS, MEMBER);
    const left = await unfinishedRun(lab, event, 'message-1');

    const result = await lab.pipeline.handleEvent(event, { deliveryId: 'message-2' });

    const [run] = result.findings.flatMap((finding) => finding.runs ?? []);
    expect(run).toMatchObject({ status: 'duplicate', duplicateOf: left });
    expect((await lab.ledger.getRun(left))?.status).toBe('started');
  });
});
