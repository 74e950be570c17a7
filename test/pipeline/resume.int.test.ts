import { DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';

import { builtInActions, defineAction, type ActionContext } from '../../src/actions/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { readResumeRequests, SqsResumeQueue, type PlaybookRunResult, type ResumeQueue, type ResumeRequest } from '../../src/pipeline/index.js';
import * as z from '../../src/zod.js';
import { emulatorClientFactory } from '../support/emulator.js';
import { compromisedInstance, guardDutyEventFor, onlyRun, pipelineLab, playbooksFromYaml, type CompromisedInstance, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };
const SLOW = 'test.wait-for-job';

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** A long job the test drives: in progress until it has been looked at `finishAfter` times. */
interface Job {
  readonly finishAfter: number;
  calls: number;
  /** Called on every look, after counting it: a test may hold a look back here. */
  hold?: (call: number) => Promise<void>;
}

const resourceOf = (context: ActionContext): string => context.resource.arn ?? context.resource.id;

/** A test-only action: starts a job, then reports it in progress (check again in 1 s) until the job says it is done. */
function waitForJob(job: Job) {
  return defineAction({
    name: SLOW,
    description: 'Start a job and wait for it (test only)',
    params: z.strictObject({}),
    target: 'instance',
    permissions: { member: [], hosting: [] },
    changesResources: true,
    behaviour: {
      async plan(context) {
        return { action: SLOW, resource: resourceOf(context), compliant: false, summary: 'would start the job and wait for it', changes: [{ field: 'job', from: null, to: 'done' }] };
      },
      async run(context) {
        job.calls += 1;
        const call = job.calls;
        await job.hold?.(call);
        if (call < job.finishAfter) {
          return {
            action: SLOW,
            resource: resourceOf(context),
            changed: false,
            summary: `job running (look ${call})`,
            changes: [],
            inProgress: { detail: `job still running after ${call} look${call === 1 ? '' : 's'}`, checkAfterSeconds: 1 },
          };
        }
        return { action: SLOW, resource: resourceOf(context), changed: true, summary: `job done after ${call} looks`, changes: [{ field: 'job', from: null, to: 'done' }] };
      },
      async verify() {
        const done = job.calls >= job.finishAfter;
        return { compliant: done, summary: done ? 'job done' : 'job not done' };
      },
    },
  });
}

const PLAYBOOK = `
id: protect-wait-isolate
title: Protect an instance, wait for a job, then isolate it
triggers: { automatic: true }
match:
  product.id: guardduty
  resource.type: AwsEc2Instance
steps:
  - ec2.enable-termination-protection: {}
  - ${SLOW}: {}
  - ec2.isolate: {}
`;

/** A resume queue on a real SQS queue, remembering when each request was sent (the queue is created after the lab resets the emulator). */
class RecordingSqsResumeQueue implements ResumeQueue {
  readonly sent: Array<{ request: ResumeRequest; delaySeconds: number; at: number }> = [];
  /** `DelaySeconds` of each SendMessage request as it went to SQS. */
  readonly sqsDelays: Array<number | undefined> = [];
  sqs: SQSClient | undefined;
  queueUrl = '';

  async create(): Promise<void> {
    this.sqs = emulatorClientFactory().create(SQSClient);
    this.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageCommand') this.sqsDelays.push((args.input as { DelaySeconds?: number }).DelaySeconds);
        return next(args);
      },
      { step: 'initialize', name: 'recordDelaySeconds' },
    );
    this.queueUrl = (await this.sqs.send(new CreateQueueCommand({ QueueName: 'riposte-resume-e2e' }))).QueueUrl as string;
  }

  async schedule(request: ResumeRequest, delaySeconds: number): Promise<void> {
    // `at` is taken before the send: SQS's delay starts later, when it accepts the message, so no message is visible before `at` + the delay, on any machine.
    const at = Date.now();
    await new SqsResumeQueue(this.sqs as SQSClient, this.queueUrl).schedule(request, delaySeconds);
    this.sent.push({ request, delaySeconds, at });
  }

  /** The messages visible now; `visibilityTimeout` 0 leaves them visible (a look that takes nothing). */
  async receive(visibilityTimeout = 30): Promise<Message[]> {
    const { Messages } = await (this.sqs as SQSClient).send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: visibilityTimeout }));
    return Messages ?? [];
  }

  /** Polls until a message is visible, as the Lambda event source would; `withinMs` only stops a hang (a loaded machine polls late, never early). */
  async next(withinMs = 120_000): Promise<{ messages: Message[]; at: number }> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const messages = await this.receive();
      if (messages.length > 0 || Date.now() > deadline) return { messages, at: Date.now() };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async delete(message: Message): Promise<void> {
    await (this.sqs as SQSClient).send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }

  async depth(): Promise<number> {
    const { Attributes } = await (this.sqs as SQSClient).send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
}

/** The event Lambda's SQS event source hands a function. */
function lambdaSqsEvent(messages: readonly Message[]): unknown {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:riposte-resume-e2e',
      awsRegion: 'us-east-1',
    })),
  };
}

async function setUp(job: Job, settings: Parameters<typeof pipelineLab>[0] = {}): Promise<{ lab: PipelineLab; queue: RecordingSqsResumeQueue; instance: CompromisedInstance }> {
  const registry = builtInActions().register(waitForJob(job));
  const queue = new RecordingSqsResumeQueue();
  const current = await pipelineLab({ registry, playbooks: playbooksFromYaml(PLAYBOOK, registry), resumeQueue: queue, ...settings, settings: { automatic: 'enforce', ...settings.settings } });
  await queue.create();
  return { lab: current, queue, instance: await compromisedInstance(current.clients, MEMBER) };
}

const runPhase = (record: RunRecord): string[] => record.steps.filter((step) => step.phase === 'run').map((step) => `${step.index}:${step.action}:${step.status}`);

async function protectedAndIsolated(current: PipelineLab, instance: CompromisedInstance): Promise<{ terminationProtection: boolean; groups: string[] }> {
  const ec2 = current.clients.create(EC2Client, target);
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return {
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    groups: [...new Set((NetworkInterfaces ?? []).flatMap((eni) => (eni.Groups ?? []).map((group) => group.GroupId as string)))].sort(),
  };
}

describe('in-progress steps, resumed through SQS', () => {
  it('saves the run, comes back after the delay through a real queue, and finishes without repeating a step', async () => {
    const job: Job = { finishAfter: 3, calls: 0 };
    const { lab: current, queue, instance } = await setUp(job);
    lab = current;

    const first = onlyRun((await current.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance), { correlationId: 'corr-resume' })).findings[0]?.runs);

    expect(first).toMatchObject({ playbookId: 'protect-wait-isolate', status: 'in-progress', resume: { delaySeconds: 1 } });
    const runId = first.runId as string;
    const saved = (await current.ledger.getRun(runId)) as RunRecord;
    expect(saved.status).toBe('in-progress');
    expect(runPhase(saved)).toEqual(['0:ec2.enable-termination-protection:changed', `1:${SLOW}:in-progress`]);
    expect(saved.steps.at(-1)).toMatchObject({ index: 1, phase: 'run', status: 'in-progress', inProgress: { detail: 'job still running after 1 look', checkAfterSeconds: 1 } });
    expect(saved.outcome).toBeUndefined();
    expect(current.findingUpdates()).toEqual([]);
    expect(queue.sent.map((entry) => entry.request)).toEqual([{ kind: 'riposte.resume', runId, resumes: 1, correlationId: 'corr-resume' }]);
    // The delay is honoured: a message seen at once came early, unless the machine was slow enough for its second to pass.
    const early = await queue.receive(0);
    const lookedBy = Date.now() - (queue.sent[0]?.at as number);
    expect(early.length === 0 || lookedBy >= 1_000, `a message was seen ${String(lookedBy)} ms after it was sent with a 1 s delay`).toBe(true);

    const results: PlaybookRunResult[] = [];
    const delays: number[] = [];
    const requests: ResumeRequest[] = [];
    for (let round = 0; round < 6; round += 1) {
      const sentAt = queue.sent.at(-1)?.at as number;
      const { messages, at } = await queue.next();
      delays.push(at - sentAt);
      expect(messages).toHaveLength(1);
      const read = readResumeRequests(lambdaSqsEvent(messages));
      expect(read.errors).toEqual([]);
      expect(read.received.map((entry) => entry.messageId)).toEqual([messages[0]?.MessageId]);
      const request = read.requests[0] as ResumeRequest;
      requests.push(request);
      const result = await current.pipeline.resume(request);
      await queue.delete(messages[0] as Message);
      results.push(result);
      if (result.status !== 'in-progress') break;
    }

    expect(results.map((result) => result.status)).toEqual(['in-progress', 'succeeded']);
    expect(requests.map((request) => request.resumes)).toEqual([1, 2]);
    // SQS was asked for the delay, and honoured it: no message came early. (How late one comes is the machine's speed, not Riposte's.)
    expect(queue.sqsDelays).toEqual([1, 1]);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(1_000);
    expect(results.at(-1)).toMatchObject({ runId, status: 'succeeded', workflowStatus: 'RESOLVED' });
    expect(job.calls).toBe(3);
    const done = (await current.ledger.getRun(runId)) as RunRecord;
    expect(done.status).toBe('succeeded');
    expect(runPhase(done)).toEqual(['0:ec2.enable-termination-protection:changed', `1:${SLOW}:in-progress`, `1:${SLOW}:in-progress`, `1:${SLOW}:changed`, '2:ec2.isolate:changed']);
    expect(done.steps.filter((step) => step.phase === 'verify').map((step) => `${step.index}:${step.status}`)).toEqual(['0:compliant', '1:compliant', '2:compliant']);
    const state = await protectedAndIsolated(current, instance);
    expect(state.terminationProtection).toBe(true);
    expect(state.groups).toHaveLength(1);
    expect(Object.values(instance.interfaces).flat()).not.toContain(state.groups[0]);
    expect(queue.sent).toHaveLength(2);
    expect(await queue.depth()).toBe(0);

    // A resume request for a run that has finished (SQS delivers at least once) does nothing.
    const late = await current.pipeline.resume(requests.at(-1) as ResumeRequest);
    expect(late).toMatchObject({ runId, status: 'duplicate', duplicateOf: runId });
    expect(late.summary).toContain('already succeeded');
    expect(job.calls).toBe(3);
    expect(await current.ledger.getRun(runId)).toEqual(done);
    expect(queue.sent).toHaveLength(2);
  });

  it('gives up on a step still in progress after settings.maxResumes resumes: the run fails with StepTimedOutError', async () => {
    const job: Job = { finishAfter: Number.POSITIVE_INFINITY, calls: 0 };
    const { lab: current, queue, instance } = await setUp(job, { settings: { maxResumes: 1 } });
    lab = current;

    const first = onlyRun((await current.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);
    expect(first.status).toBe('in-progress');
    const { messages } = await queue.next();
    const [request] = readResumeRequests(lambdaSqsEvent(messages)).requests;
    const resumed = await current.pipeline.resume(request as ResumeRequest);

    expect(resumed).toMatchObject({ runId: first.runId, status: 'failed', workflowStatus: 'NOTIFIED' });
    const record = (await current.ledger.getRun(first.runId as string)) as RunRecord;
    expect(record).toMatchObject({ status: 'failed', outcome: { workflowStatus: 'NOTIFIED' } });
    expect(runPhase(record)).toEqual(['0:ec2.enable-termination-protection:changed', `1:${SLOW}:in-progress`, `1:${SLOW}:failed`, '2:ec2.isolate:skipped']);
    const timedOut = record.steps.find((step) => step.status === 'failed');
    expect(timedOut?.error).toMatchObject({ name: 'StepTimedOutError', code: 'STEP_TIMED_OUT', context: { runId: first.runId, step: SLOW, stepIndex: 1 } });
    expect(timedOut?.error?.message).toContain('still in progress after 1 resumes');
    expect(job.calls).toBe(2);
    // No further resume is scheduled; what ran stays, what did not is not started.
    expect(queue.sent).toHaveLength(1);
    await queue.delete(messages[0] as Message);
    expect(await queue.depth()).toBe(0);
    const state = await protectedAndIsolated(current, instance);
    expect(state.terminationProtection).toBe(true);
    expect(state.groups).toEqual([...new Set(Object.values(instance.interfaces).flat())].sort());
  });

  it('lets one worker take a resume message SQS delivers twice; the other stops before touching anything', async () => {
    const job: Job = { finishAfter: 2, calls: 0 };
    const { lab: current, queue, instance } = await setUp(job);
    lab = current;
    const first = onlyRun((await current.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);
    expect(first.status).toBe('in-progress');
    const { messages } = await queue.next();
    // SQS delivers at least once: the same message reaches two invocations.
    const [one, two] = readResumeRequests(lambdaSqsEvent([...messages, ...messages])).requests;

    const results = await Promise.all([current.pipeline.resume(one as ResumeRequest), current.pipeline.resume(two as ResumeRequest)]);

    expect(job.calls).toBe(2); // the first delivery's look, and the winner's: the loser never called the action
    expect(results.map((result) => result.status).sort()).toEqual(['duplicate', 'succeeded']);
    expect(results.find((result) => result.status === 'duplicate')?.summary).toContain('being carried out by another worker');
    const record = (await current.ledger.getRun(first.runId as string)) as RunRecord;
    expect(runPhase(record)).toEqual(['0:ec2.enable-termination-protection:changed', `1:${SLOW}:in-progress`, `1:${SLOW}:changed`, '2:ec2.isolate:changed']);
  });

  it('lets one of two racing resume messages for the same run carry on; the other stops on the ledger’s version check, and no step runs twice', async () => {
    let bothLooking: () => void = () => undefined;
    const together = new Promise<void>((resolve) => {
      bothLooking = resolve;
    });
    // Both resumes read the run, then both look at the job before either writes: a true race on the ledger.
    const job: Job = { finishAfter: 2, calls: 0, hold: async (call) => (call === 3 ? bothLooking() : call === 2 ? together : undefined) };
    const { lab: current, queue, instance } = await setUp(job);
    lab = current;
    const first = onlyRun((await current.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);
    expect(first.status).toBe('in-progress');
    const { messages } = await queue.next();
    // SQS delivers at least once: the same message reaches two invocations.
    const [request] = readResumeRequests(lambdaSqsEvent(messages)).requests;
    // Two different messages for the same run (one re-sent with the next count): the lease keys apart, the ledger's versions do not.
    const resent = { ...(request as ResumeRequest), resumes: (request as ResumeRequest).resumes + 1 };

    const results = await Promise.all([current.pipeline.resume(request as ResumeRequest), current.pipeline.resume(resent)]);

    expect(job.calls).toBe(3);
    expect(results.map((result) => result.status).sort()).toEqual(['duplicate', 'succeeded']);
    const loser = results.find((result) => result.status === 'duplicate');
    expect(loser).toMatchObject({ runId: first.runId, error: { name: 'LedgerConflictError' } });
    const record = (await current.ledger.getRun(first.runId as string)) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(runPhase(record)).toEqual(['0:ec2.enable-termination-protection:changed', `1:${SLOW}:in-progress`, `1:${SLOW}:changed`, '2:ec2.isolate:changed']);
    expect(record.steps.filter((step) => step.phase === 'verify')).toHaveLength(3);
    expect(queue.sent).toHaveLength(1);
  });

  it('a resume message that read the run before another finished it stops as a duplicate too, not as a failure', async () => {
    let finished: () => void = () => undefined;
    const winnerDone = new Promise<void>((resolve) => {
      finished = resolve;
    });
    // The second look is held until the other resume has finished the whole run.
    const job: Job = { finishAfter: 2, calls: 0, hold: async (call) => (call === 3 ? winnerDone : undefined) };
    const { lab: current, queue, instance } = await setUp(job);
    lab = current;
    const first = onlyRun((await current.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);
    const { messages } = await queue.next();
    const [request] = readResumeRequests(lambdaSqsEvent(messages)).requests;

    const resent = { ...(request as ResumeRequest), resumes: (request as ResumeRequest).resumes + 1 };
    const racing = [current.pipeline.resume(request as ResumeRequest), current.pipeline.resume(resent)];
    const winner = await Promise.race(racing);
    finished();
    const results = await Promise.all(racing);

    expect(winner.status).toBe('succeeded');
    expect(job.calls).toBe(3);
    const loser = results.find((result) => result !== winner);
    expect(loser).toMatchObject({ status: 'duplicate', runId: first.runId, error: { name: 'RunAlreadyFinishedError' } });
    expect(loser?.summary).toBe(`another worker finished run ${first.runId as string} (succeeded)`);
    expect(results.map((result) => result.status).sort()).toEqual(['duplicate', 'succeeded']);
    const record = (await current.ledger.getRun(first.runId as string)) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(runPhase(record)).toEqual(['0:ec2.enable-termination-protection:changed', `1:${SLOW}:in-progress`, `1:${SLOW}:changed`, '2:ec2.isolate:changed']);
    expect(current.logs.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});
