import { afterEach, describe, expect, it } from 'vitest';

import { builtInActions, defineAction, type ActionContext } from '../../src/actions/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { MemoryResumeQueue, type PlaybookRunResult } from '../../src/pipeline/index.js';
import * as z from '../../src/zod.js';
import { compromisedInstance, guardDutyEventFor, onlyRun, pipelineLab, playbooksFromYaml, type PipelineLab } from '../support/pipeline-lab.js';

/*
 * Steps marked `concurrent` start with the step before them (src/pipeline/execute.ts):
 * proven with test actions that meet at a barrier (each waits until every step of
 * its group has started, which steps run one after another never do), record when
 * they start and end, fail, or wait on a job across a resume.
 */

const MEMBER = '222222222222';

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const resourceOf = (context: ActionContext): string => context.resource.arn ?? context.resource.id;

/** What the test actions saw: each step's start and end, in the order they happened, and whether each met the others of its group. */
class Rendezvous {
  readonly log: string[] = [];
  readonly met: Record<string, boolean> = {};
  #arrived = 0;
  #release: (() => void) | undefined;
  readonly #all: Promise<void>;

  /** `size` steps meet; a step that waits `giveUpMs` without meeting them all goes on and says so (steps run one by one never meet). */
  constructor(
    readonly size: number,
    readonly giveUpMs = 10_000,
  ) {
    this.#all = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  async meet(name: string): Promise<void> {
    this.log.push(`start ${name}`);
    this.#arrived += 1;
    if (this.#arrived === this.size) this.#release?.();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.giveUpMs);
    });
    this.met[name] = await Promise.race([this.#all.then(() => true as const), gaveUp]);
    clearTimeout(timer);
    this.log.push(`end ${name}`);
  }
}

const params = z.strictObject({ name: z.string(), fail: z._default(z.boolean(), false) });

/** A step that meets the others of its group (or fails once it has), changing nothing in AWS. */
function meetAction(rendezvous: Rendezvous) {
  return defineAction({
    name: 'test.meet',
    description: 'Meet the other steps of the group (test only)',
    params,
    target: 'instance',
    permissions: { member: [], hosting: [] },
    changesResources: true,
    behaviour: {
      async plan(context, wanted) {
        return { action: 'test.meet', resource: resourceOf(context), compliant: false, summary: `would meet as ${wanted.name}`, changes: [{ field: wanted.name, from: null, to: 'met' }] };
      },
      async run(context, wanted) {
        await rendezvous.meet(wanted.name);
        if (wanted.fail) throw new Error(`${wanted.name} failed on purpose`);
        return { action: 'test.meet', resource: resourceOf(context), changed: true, summary: `${wanted.name} met`, changes: [{ field: wanted.name, from: null, to: 'met' }] };
      },
      async verify(_context, wanted) {
        return { compliant: wanted.name in rendezvous.met, summary: `${wanted.name} ${wanted.name in rendezvous.met ? 'met' : 'did not run'}` };
      },
    },
  });
}

/** A step that is in progress on its first look and done on the second. */
function jobAction(looks: { count: number }) {
  return defineAction({
    name: 'test.job',
    description: 'A job done on the second look (test only)',
    params: z.strictObject({}),
    target: 'instance',
    permissions: { member: [], hosting: [] },
    changesResources: true,
    behaviour: {
      async plan(context) {
        return { action: 'test.job', resource: resourceOf(context), compliant: false, summary: 'would run the job', changes: [{ field: 'job', from: null, to: 'done' }] };
      },
      async run(context) {
        looks.count += 1;
        if (looks.count === 1) {
          return { action: 'test.job', resource: resourceOf(context), changed: false, summary: 'job running', changes: [], inProgress: { detail: 'job still running', checkAfterSeconds: 1 } };
        }
        return { action: 'test.job', resource: resourceOf(context), changed: true, summary: `job done on look ${looks.count}`, changes: [{ field: 'job', from: null, to: 'done' }] };
      },
      async verify() {
        return { compliant: looks.count >= 2, summary: looks.count >= 2 ? 'job done' : 'job not done' };
      },
    },
  });
}

const playbook = (steps: string): string => `
id: side-by-side
title: Steps side by side
triggers: { automatic: true }
match:
  product.id: guardduty
  resource.type: AwsEc2Instance
steps:
${steps}
`;

async function run(steps: string, rendezvous: Rendezvous, extra: { looks?: { count: number }; queue?: MemoryResumeQueue } = {}): Promise<{ result: PlaybookRunResult; record: RunRecord }> {
  const registry = builtInActions().register(meetAction(rendezvous));
  if (extra.looks !== undefined) registry.register(jobAction(extra.looks));
  lab = await pipelineLab({
    registry,
    playbooks: playbooksFromYaml(playbook(steps), registry),
    settings: { automatic: 'enforce' },
    ...(extra.queue === undefined ? {} : { resumeQueue: extra.queue }),
  });
  const instance = await compromisedInstance(lab.clients, MEMBER);
  const result = onlyRun((await lab.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);
  return { result, record: (await lab.ledger.getRun(result.runId as string)) as RunRecord };
}

const runPhase = (record: RunRecord): string[] => record.steps.filter((step) => step.phase === 'run').map((step) => `${step.index}:${step.status}`);

describe('steps marked concurrent', () => {
  it('start together, and the next step without the mark waits for the whole group', async () => {
    const rendezvous = new Rendezvous(3);
    const { result, record } = await run(
      `
  - test.meet: { name: a }
  - test.meet: { name: b }
    concurrent: true
  - test.meet: { name: c }
    concurrent: true
  - test.meet: { name: after }
`,
      rendezvous,
    );

    expect(result).toMatchObject({ status: 'succeeded', workflowStatus: 'RESOLVED' });
    expect(rendezvous.met).toMatchObject({ a: true, b: true, c: true });
    // The group's three starts come before any of its ends; the fourth step starts after all three ended.
    expect(rendezvous.log.slice(0, 3).sort()).toEqual(['start a', 'start b', 'start c']);
    expect(rendezvous.log.slice(3, 6).sort()).toEqual(['end a', 'end b', 'end c']);
    expect(rendezvous.log.slice(6)).toEqual(['start after', 'end after']);
    expect(runPhase(record).sort()).toEqual(['0:changed', '1:changed', '2:changed', '3:changed']);
    expect(record.history.map((transition) => transition.state.stage)).toContain('verifying');
  });

  it('a step that fails stops the steps after its group, never the ones beside it', async () => {
    const rendezvous = new Rendezvous(2);
    const { result, record } = await run(
      `
  - test.meet: { name: failing, fail: true }
  - test.meet: { name: beside }
    concurrent: true
  - test.meet: { name: after }
`,
      rendezvous,
    );

    expect(result).toMatchObject({ status: 'failed', workflowStatus: 'NOTIFIED' });
    expect(rendezvous.met).toEqual({ failing: true, beside: true });
    const byIndex = Object.fromEntries(record.steps.filter((step) => step.phase === 'run').map((step) => [step.index, `${step.status}: ${step.summary}`]));
    expect(byIndex[0]).toMatch(/^failed: .*failing failed on purpose/);
    expect(byIndex[1]).toBe('changed: beside met');
    expect(byIndex[2]).toBe('skipped: not run: step test.meet failed before it');
    expect(JSON.stringify(record)).not.toContain('RESOLVED');
  });

  it('a step still in progress pauses the run once its group has ended; the resume runs only that step, then the next group', async () => {
    const looks = { count: 0 };
    const queue = new MemoryResumeQueue();
    const { result, record } = await run(
      `
  - test.job: {}
  - test.meet: { name: beside }
    concurrent: true
  - test.meet: { name: after }
`,
      new Rendezvous(1),
      { looks, queue },
    );

    expect(result).toMatchObject({ status: 'in-progress', resume: { delaySeconds: 1 } });
    expect(runPhase(record).sort()).toEqual(['0:in-progress', '1:changed']);
    expect(record.state).toMatchObject({ stage: 'paused', step: 0 });

    const [request] = queue.take(new Date(Date.now() + 5_000));
    const resumed = await (lab as PipelineLab).pipeline.resume(request as NonNullable<typeof request>, { remainingTimeMs: () => 600_000 });

    expect(resumed).toMatchObject({ status: 'succeeded', workflowStatus: 'RESOLVED' });
    const finished = (await (lab as PipelineLab).ledger.getRun(result.runId as string)) as RunRecord;
    // The step beside the job ran once; the job ran again; the step after the group ran after it.
    expect(runPhase(finished).filter((entry) => entry.startsWith('1:'))).toEqual(['1:changed']);
    expect(runPhase(finished).slice(2)).toEqual(['0:changed', '2:changed']);
    expect(looks.count).toBe(2);
  });
});
