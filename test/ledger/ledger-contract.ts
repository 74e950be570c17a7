import { describe, expect, it } from 'vitest';

import { readEvent } from '../../src/intake/index.js';
import {
  IllegalRunTransitionError,
  LedgerConflictError,
  LISTED_RUN_FIELDS,
  RunAlreadyExistsError,
  RunAlreadyFinishedError,
  RunNotFoundError,
  idempotencyKey,
  type NewRun,
  type RunLedger,
  type RunRecord,
  type StepRecord,
} from '../../src/ledger/index.js';
import { fixture } from '../support/fixtures.js';

/** A clock tests can move; every ledger under test reads time from it. */
export interface TestClock {
  readonly now: () => Date;
  readonly advance: (seconds: number) => void;
}

export function testClock(start = '2025-03-14T09:15:06.000Z'): TestClock {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    advance: (seconds) => {
      current += seconds * 1000;
    },
  };
}

/** Makes a fresh, empty ledger reading time from the given clock. */
export type LedgerFactory = (clock: TestClock) => Promise<RunLedger>;

let sequence = 0;
/** Run ids unique across the suite, so tests sharing one table never collide. */
export function uniqueId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  const event = fixture('securityhub-imported-cis-password-policy.json');
  return {
    runId: uniqueId('run'),
    correlationId: uniqueId('corr'),
    findingId: uniqueId('finding'),
    findingUpdatedAt: '2025-03-14T09:14:59.000Z',
    playbookId: 'cis-password-policy',
    account: '111122223333',
    region: 'us-east-1',
    trigger: 'automatic',
    mode: 'enforce',
    receivedEvent: { envelope: { id: event.id, source: event.source, account: event.account }, record: event },
    ...overrides,
  };
}

export function step(index: number, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    index,
    action: 'iam.set-password-policy',
    phase: 'run',
    status: 'changed',
    summary: `step ${index}`,
    changes: [{ field: 'MinimumPasswordLength', from: 8, to: 14 }],
    undo: { previous: { MinimumPasswordLength: 8 } },
    evidence: [{ key: `evidence/${index}.json`, sha256: 'a'.repeat(64) }],
    at: '2025-03-14T09:15:07.000Z',
    ...overrides,
  };
}

/** Appends with the version just read, re-reading on conflict: how the pipeline writes. */
async function appendWithRetry(ledger: RunLedger, runId: string, record: StepRecord): Promise<number> {
  let version = (await ledger.getRun(runId))?.version;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ledger.appendStep(runId, record, version);
      return attempt;
    } catch (error) {
      if (!(error instanceof LedgerConflictError)) throw error;
      version = error.current.version;
    }
  }
}

/**
 * What every RunLedger must do, whatever it stores in. Each implementation's
 * test file calls this with a factory for a fresh ledger.
 */
export function runLedgerContract(name: string, makeLedger: LedgerFactory): void {
  describe(`${name} (RunLedger contract)`, () => {
    it('records a run and reads it back', async () => {
      const clock = testClock();
      const ledger = await makeLedger(clock);
      const run = newRun();

      const started = await ledger.startRun(run);
      const read = await ledger.getRun(run.runId);

      expect(started).toMatchObject({ ...run, status: 'started', steps: [], version: 1, createdAt: clock.now().toISOString() });
      expect(read).toEqual(started);
      expect(await ledger.getRun(uniqueId('missing'))).toBeUndefined();
    });

    it('refuses a second start of the same run, carrying the existing record', async () => {
      const ledger = await makeLedger(testClock());
      const run = newRun();
      const first = await ledger.startRun(run);
      await ledger.appendStep(run.runId, step(0));

      const second = await ledger.startRun({ ...run, correlationId: 'another' }).catch((error: unknown) => error);

      expect(second).toBeInstanceOf(RunAlreadyExistsError);
      const existing = (second as RunAlreadyExistsError).existing;
      expect(existing).toMatchObject({ runId: run.runId, correlationId: first.correlationId, version: 2 });
      expect(existing.steps).toHaveLength(1);
      expect((second as RunAlreadyExistsError).code).toBe('LEDGER_RUN_ALREADY_EXISTS');
    });

    it('appends steps in order, bumping the version each time', async () => {
      const clock = testClock();
      const ledger = await makeLedger(clock);
      const run = newRun();
      await ledger.startRun(run);

      clock.advance(1);
      const afterFirst = await ledger.appendStep(run.runId, step(0, { phase: 'plan', status: 'compliant' }), 1);
      const afterSecond = await ledger.appendStep(run.runId, step(0), afterFirst.version);
      const afterThird = await ledger.appendStep(run.runId, step(0, { phase: 'verify', status: 'compliant', undo: undefined }));

      expect(afterThird.version).toBe(4);
      expect(afterThird.status).toBe('in-progress');
      expect(afterThird.updatedAt).toBe(clock.now().toISOString());
      expect(afterSecond.steps.map((s) => s.phase)).toEqual(['plan', 'run']);
      expect(await ledger.getRun(run.runId)).toEqual(afterThird);
      expect(afterThird.steps[2]).not.toHaveProperty('undo');
    });

    it('keeps a failed step with its error as plain JSON', async () => {
      const ledger = await makeLedger(testClock());
      const run = newRun();
      await ledger.startRun(run);
      const error = new RunNotFoundError('x').toJSON();

      const after = await ledger.appendStep(run.runId, step(1, { status: 'failed', error, changes: [] }));

      expect(after.steps[0]?.error).toEqual({ name: 'RunNotFoundError', code: 'LEDGER_RUN_NOT_FOUND', message: 'no run x is recorded', retryable: false, context: { runId: 'x' } });
    });

    it('loses no step when 20 writers append at once with retry on conflict', async () => {
      const ledger = await makeLedger(testClock());
      const run = newRun();
      await ledger.startRun(run);

      const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => appendWithRetry(ledger, run.runId, step(i))));

      const record = (await ledger.getRun(run.runId)) as RunRecord;
      expect(record.steps).toHaveLength(20);
      expect(record.steps.map((s) => s.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(record.version).toBe(21);
      // The writers really did race: some had to re-read and try again.
      expect(Math.max(...attempts)).toBeGreaterThan(1);
    });

    it('loses no step when 20 writers append at once without naming a version', async () => {
      const ledger = await makeLedger(testClock());
      const run = newRun();
      await ledger.startRun(run);

      await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.appendStep(run.runId, step(i))));

      const record = (await ledger.getRun(run.runId)) as RunRecord;
      expect(new Set(record.steps.map((s) => s.index)).size).toBe(20);
      expect(record.version).toBe(21);
    });

    it('refuses a write at a stale version, carrying the current record', async () => {
      const ledger = await makeLedger(testClock());
      const run = newRun();
      await ledger.startRun(run);
      await ledger.appendStep(run.runId, step(0), 1);

      const stale = await ledger.appendStep(run.runId, step(1), 1).catch((error: unknown) => error);
      const staleFinish = await ledger.finishRun(run.runId, 'succeeded', { summary: 'done' }, 1).catch((error: unknown) => error);

      expect(stale).toBeInstanceOf(LedgerConflictError);
      expect((stale as LedgerConflictError).current).toMatchObject({ runId: run.runId, version: 2 });
      expect((stale as LedgerConflictError).current.steps).toHaveLength(1);
      expect((stale as LedgerConflictError).retryable).toBe(true);
      expect(staleFinish).toBeInstanceOf(LedgerConflictError);
      expect((await ledger.getRun(run.runId))?.version).toBe(2);
    });

    it('says when the run does not exist', async () => {
      const ledger = await makeLedger(testClock());
      const runId = uniqueId('missing');

      await expect(ledger.appendStep(runId, step(0))).rejects.toBeInstanceOf(RunNotFoundError);
      await expect(ledger.finishRun(runId, 'failed', { summary: 'x' })).rejects.toBeInstanceOf(RunNotFoundError);
    });

    it('finishes a run once, with its outcome, and closes it to appends', async () => {
      const clock = testClock();
      const ledger = await makeLedger(clock);
      const run = newRun();
      await ledger.startRun(run);
      const running = await ledger.appendStep(run.runId, step(0));

      clock.advance(5);
      const finished = await ledger.finishRun(run.runId, 'succeeded', { summary: 'password policy fixed', workflowStatus: 'RESOLVED' }, running.version);

      expect(finished).toMatchObject({
        status: 'succeeded',
        outcome: { summary: 'password policy fixed', workflowStatus: 'RESOLVED' },
        version: 3,
        updatedAt: clock.now().toISOString(),
      });
      expect(await ledger.getRun(run.runId)).toEqual(finished);
      const append = await ledger.appendStep(run.runId, step(1)).catch((error: unknown) => error);
      expect(append).toBeInstanceOf(RunAlreadyFinishedError);
      expect((append as RunAlreadyFinishedError).current.status).toBe('succeeded');
      await expect(ledger.finishRun(run.runId, 'failed', { summary: 'again' })).rejects.toBeInstanceOf(RunAlreadyFinishedError);

      // A rollback (a run of its own) marks the original as rolled back.
      const rolledBack = await ledger.finishRun(run.runId, 'rolled-back', { summary: 'rolled back by run r2' });
      expect(rolledBack).toMatchObject({ status: 'rolled-back', version: 4, steps: finished.steps });
    });

    it('moves a run through its lifecycle, keeping every state in its history', async () => {
      const clock = testClock();
      const ledger = await makeLedger(clock);
      const run = newRun();
      const started = await ledger.startRun(run);
      const at = (): string => clock.now().toISOString();
      const t0 = at();

      clock.advance(1);
      const guarded = await ledger.advanceRun(run.runId, { stage: 'guarded' }, started.version);
      const planned = await ledger.appendStep(run.runId, step(0, { phase: 'plan' }), guarded.version, { stage: 'planned' });
      const executing = await ledger.advanceRun(run.runId, { stage: 'executing', step: 0 }, planned.version);
      clock.advance(1);
      const paused = await ledger.appendStep(run.runId, step(0, { status: 'in-progress' }), executing.version, { stage: 'paused', step: 0, resumes: 1, resumeAfterSeconds: 30 });
      const resumed = await ledger.advanceRun(run.runId, { stage: 'executing', step: 0 }, paused.version);
      const verifying = await ledger.appendStep(run.runId, step(0), resumed.version, { stage: 'verifying' });
      const finished = await ledger.finishRun(run.runId, 'succeeded', { summary: 'done' }, verifying.version);

      expect(guarded).toMatchObject({ status: 'started', state: { stage: 'guarded' }, version: 2 });
      expect(planned).toMatchObject({ status: 'in-progress', state: { stage: 'planned' }, version: 3 });
      expect(paused.state).toEqual({ stage: 'paused', step: 0, resumes: 1, resumeAfterSeconds: 30 });
      expect(finished.state).toEqual({ stage: 'succeeded' });
      expect(finished.history).toEqual([
        { state: { stage: 'claimed' }, at: t0 },
        { state: { stage: 'guarded' }, at: new Date(Date.parse(t0) + 1000).toISOString() },
        { state: { stage: 'planned' }, at: new Date(Date.parse(t0) + 1000).toISOString() },
        { state: { stage: 'executing', step: 0 }, at: new Date(Date.parse(t0) + 1000).toISOString() },
        { state: { stage: 'paused', step: 0, resumes: 1, resumeAfterSeconds: 30 }, at: at() },
        { state: { stage: 'executing', step: 0 }, at: at() },
        { state: { stage: 'verifying' }, at: at() },
        { state: { stage: 'succeeded' }, at: at() },
      ]);
      expect(await ledger.getRun(run.runId)).toEqual(finished);
    });

    it('refuses a move the lifecycle does not allow, carrying the record and changing nothing', async () => {
      const ledger = await makeLedger(testClock());
      const run = newRun();
      const started = await ledger.startRun(run);

      const skipAhead = await ledger.advanceRun(run.runId, { stage: 'executing', step: 0 }, started.version).catch((error: unknown) => error);
      const stepAhead = await ledger.appendStep(run.runId, step(0), started.version, { stage: 'verifying' }).catch((error: unknown) => error);
      const endByAdvance = await ledger.advanceRun(run.runId, { stage: 'succeeded' }, started.version).catch((error: unknown) => error);

      for (const refusal of [skipAhead, stepAhead, endByAdvance]) {
        expect(refusal).toBeInstanceOf(IllegalRunTransitionError);
        expect((refusal as IllegalRunTransitionError).current).toEqual(started);
      }
      expect(await ledger.getRun(run.runId)).toEqual(started);
      const stale = await ledger.advanceRun(run.runId, { stage: 'guarded' }, started.version + 1).catch((error: unknown) => error);
      expect(stale).toBeInstanceOf(LedgerConflictError);
      const finished = await ledger.finishRun(run.runId, 'skipped', { summary: 'exempt' });
      const afterEnd = await ledger.advanceRun(run.runId, { stage: 'guarded' }, finished.version).catch((error: unknown) => error);
      expect(afterEnd).toBeInstanceOf(RunAlreadyFinishedError);
    });

    it('claims a key once within its window, and again after it', async () => {
      const clock = testClock();
      const ledger = await makeLedger(clock);
      const key = idempotencyKey(uniqueId('finding'), '2025-03-14T09:14:59.000Z', 'cis-password-policy');
      const t0 = clock.now();
      const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);

      expect(await ledger.claim(key, 'run-a', 3600, t0)).toEqual({ claimed: true });
      expect(await ledger.claim(key, 'run-b', 3600, at(10))).toEqual({ claimed: false, existingRunId: 'run-a' });
      expect(await ledger.claim(key, 'run-a', 3600, at(20))).toEqual({ claimed: true });
      expect(await ledger.claim(key, 'run-b', 3600, at(3599))).toEqual({ claimed: false, existingRunId: 'run-a' });
      expect(await ledger.claim(key, 'run-b', 3600, at(3600))).toEqual({ claimed: true });
      expect(await ledger.claim(key, 'run-a', 3600, at(3601))).toEqual({ claimed: false, existingRunId: 'run-b' });
      // Another playbook on the same finding version is another key.
      expect(await ledger.claim(key.replace(/cis-password-policy$/, 'other'), 'run-c', 3600, at(10))).toEqual({ claimed: true });
      await expect(ledger.claim(key, 'run-a', 0, t0)).rejects.toBeInstanceOf(RangeError);
    });

    it('lets one of many concurrent claims of a key win', async () => {
      const ledger = await makeLedger(testClock());
      const key = idempotencyKey(uniqueId('finding'), undefined, 'p');

      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.claim(key, `run-${i}`, 60)));

      const winners = results.filter((result) => result.claimed);
      expect(winners).toHaveLength(1);
      const holders = new Set(results.flatMap((result) => (result.claimed ? [] : [result.existingRunId])));
      expect(holders.size).toBe(1);
    });

    it('claims once when the same finding arrives from the member and the administrator account', async () => {
      const ledger = await makeLedger(testClock());
      const adminDelivery = fixture<Record<string, unknown> & { detail: { findings: Record<string, unknown>[] } }>('securityhub-imported-cis-password-policy.json');
      const findingId = uniqueId('arn:aws:securityhub:us-east-1:111122223333:finding');
      adminDelivery.detail.findings[0] = { ...adminDelivery.detail.findings[0], Id: findingId };
      const memberDelivery = { ...structuredClone(adminDelivery), id: 'a-different-event-id', account: '111122223333' };

      const deliveries = [readEvent(adminDelivery), readEvent(memberDelivery)].map((result) => result.findings[0]);
      const [fromAdmin, fromMember] = deliveries;
      expect(fromAdmin?.raw.envelope.account).not.toBe(fromMember?.raw.envelope.account);
      const claims = [];
      for (const [i, finding] of deliveries.entries()) {
        claims.push(await ledger.claim(idempotencyKey(finding!.id, finding!.updatedAt, 'cis-password-policy'), `run-${i}`, 3600));
      }

      expect(claims).toEqual([{ claimed: true }, { claimed: false, existingRunId: 'run-0' }]);
    });

    it('keeps the optional run and step fields exactly, on every path a record comes back by', async () => {
      const clock = testClock();
      const ledger = await makeLedger(clock);
      const failed = uniqueId('run');
      const run = newRun({
        finding: { id: 'f-1', severity: { label: 'HIGH', normalized: 70 }, resources: [{ type: 'AwsIamUser', id: 'u' }], note: null, big: 9007199254740991 },
        attempt: 2,
        retryOf: failed,
        rollbackOf: uniqueId('run'),
        resumes: 1,
      });
      const carried = step(0, { carriedFromRunId: failed });
      const pending = step(1, { status: 'in-progress', inProgress: { detail: 'command 1a2b is InProgress', checkAfterSeconds: 30 } });

      const started = await ledger.startRun(run);
      await ledger.appendStep(run.runId, carried);
      const appended = await ledger.appendStep(run.runId, pending);
      const again = await ledger.startRun(run).catch((error: unknown) => error);
      const stale = await ledger.appendStep(run.runId, step(2), 1).catch((error: unknown) => error);
      const finished = await ledger.finishRun(run.runId, 'failed', { summary: 'x', details: { at: 1.5 } });

      const expected = { ...run, steps: [carried, pending] };
      const claimed = { state: { stage: 'claimed' }, history: [{ state: { stage: 'claimed' }, at: clock.now().toISOString() }] };
      expect(started).toEqual({ ...run, status: 'started', ...claimed, steps: [], createdAt: clock.now().toISOString(), updatedAt: clock.now().toISOString(), version: 1 });
      expect(appended).toMatchObject(expected);
      expect(appended.steps).toEqual([carried, pending]);
      expect((again as RunAlreadyExistsError).existing).toEqual(appended);
      expect((stale as LedgerConflictError).current).toEqual(appended);
      expect(finished).toEqual({
        ...appended,
        status: 'failed',
        state: { stage: 'failed' },
        history: [...appended.history, { state: { stage: 'failed' }, at: clock.now().toISOString() }],
        outcome: { summary: 'x', details: { at: 1.5 } },
        version: 4,
      });
      expect(await ledger.getRun(run.runId)).toEqual(finished);
      expect(await ledger.listRunsForFinding(run.findingId)).toEqual([finished]);
    });

    it('transfers a claim to a retry once, with a fresh window', async () => {
      const ledger = await makeLedger(testClock());
      const key = idempotencyKey(uniqueId('finding'), undefined, 'p');
      const t0 = new Date('2025-03-14T09:00:00.000Z');
      const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);
      await ledger.claim(key, 'run-a', 3600, t0);

      expect(await ledger.transferClaim(key, 'run-a', 'run-b', 3600, at(3000))).toEqual({ claimed: true });
      expect(await ledger.transferClaim(key, 'run-a', 'run-c', 3600, at(3001))).toEqual({ claimed: false, existingRunId: 'run-b' });
      // Asked again by the retry that owns it (a redelivery): yes, without extending the window.
      expect(await ledger.transferClaim(key, 'run-a', 'run-b', 3600, at(3002))).toEqual({ claimed: true });
      // Past run-a's window, inside the fresh one.
      expect(await ledger.claim(key, 'run-a', 3600, at(3700))).toEqual({ claimed: false, existingRunId: 'run-b' });
      expect(await ledger.claim(key, 'run-b', 3600, at(3700))).toEqual({ claimed: true });
      expect(await ledger.claim(key, 'run-d', 3600, at(6599))).toEqual({ claimed: false, existingRunId: 'run-b' });
      expect(await ledger.claim(key, 'run-d', 3600, at(6600))).toEqual({ claimed: true });
      await expect(ledger.transferClaim(key, 'run-d', 'run-e', 0, at(6600))).rejects.toBeInstanceOf(RangeError);
    });

    it('releases a claim only for the run holding it, so the next claim takes it at once', async () => {
      const ledger = await makeLedger(testClock());
      const key = `lease|${uniqueId('resource')}`;
      const t0 = new Date('2025-03-14T09:00:00.000Z');
      await ledger.claim(key, 'run-a', 900, t0);

      // Another run cannot give up what it does not hold.
      await ledger.releaseClaim(key, 'run-b');
      expect(await ledger.claim(key, 'run-b', 900, t0)).toEqual({ claimed: false, existingRunId: 'run-a' });
      // The holder gives it up inside its window: the next run takes it now, not when the window ends.
      await ledger.releaseClaim(key, 'run-a');
      expect(await ledger.claim(key, 'run-b', 900, t0)).toEqual({ claimed: true });
      // Releasing again, or a key nobody holds, changes nothing.
      await ledger.releaseClaim(key, 'run-a');
      await ledger.releaseClaim(`lease|${uniqueId('resource')}`, 'run-a');
      expect(await ledger.claim(key, 'run-c', 900, t0)).toEqual({ claimed: false, existingRunId: 'run-b' });
    });

    it('answers a transfer of a key nobody holds with no owner', async () => {
      const ledger = await makeLedger(testClock());
      const unclaimed = idempotencyKey(uniqueId('finding'), undefined, 'p');
      const expired = idempotencyKey(uniqueId('finding'), undefined, 'p');
      const t0 = new Date('2025-03-14T09:00:00.000Z');
      await ledger.claim(expired, 'run-a', 60, t0);

      expect(await ledger.transferClaim(unclaimed, 'run-a', 'run-b', 60, t0)).toEqual({ claimed: false, existingRunId: '' });
      expect(await ledger.transferClaim(expired, 'run-a', 'run-b', 60, new Date(t0.getTime() + 60_000))).toEqual({ claimed: false, existingRunId: '' });
      // Nothing was written: the key is free to claim.
      expect(await ledger.claim(unclaimed, 'run-c', 60, t0)).toEqual({ claimed: true });
    });

    it('lets one of many concurrent transfers from the same owner win', async () => {
      const ledger = await makeLedger(testClock());
      const key = idempotencyKey(uniqueId('finding'), undefined, 'p');
      await ledger.claim(key, 'run-failed', 3600);

      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.transferClaim(key, 'run-failed', `retry-${i}`, 3600)));

      const winners = results.flatMap((result, i) => (result.claimed ? [`retry-${i}`] : []));
      expect(winners).toHaveLength(1);
      expect(new Set(results.flatMap((result) => (result.claimed ? [] : [result.existingRunId])))).toEqual(new Set(winners));
      expect(await ledger.claim(key, 'someone-else', 3600)).toEqual({ claimed: false, existingRunId: winners[0] });
    });

    it('allows a limit of distinct resources per window and refuses the next, naming the holders', async () => {
      const ledger = await makeLedger(testClock());
      const scope = uniqueId('playbook');
      const t0 = new Date('2025-03-14T09:00:00.000Z');

      const allowed = [];
      for (const resource of ['r-0', 'r-1', 'r-2']) allowed.push(await ledger.reserveChange(scope, resource, 3, 3600, t0));
      const refused = await ledger.reserveChange(scope, 'r-3', 3, 3600, t0);

      expect(allowed).toEqual([1, 2, 3].map((used) => ({ allowed: true, used, limit: 3, alreadyHeld: false })));
      expect(refused).toEqual({ allowed: false, used: 3, limit: 3, holders: ['r-0', 'r-1', 'r-2'] });
    });

    it('allows a resource that holds a slot again without taking another', async () => {
      const ledger = await makeLedger(testClock());
      const scope = uniqueId('playbook');
      const t0 = new Date('2025-03-14T09:00:00.000Z');
      await ledger.reserveChange(scope, 'r-0', 2, 3600, t0);

      expect(await ledger.reserveChange(scope, 'r-0', 2, 3600, t0)).toEqual({ allowed: true, used: 1, limit: 2, alreadyHeld: true });
      expect(await ledger.reserveChange(scope, 'r-1', 2, 3600, t0)).toEqual({ allowed: true, used: 2, limit: 2, alreadyHeld: false });
      expect(await ledger.reserveChange(scope, 'r-0', 2, 3600, t0)).toEqual({ allowed: true, used: 2, limit: 2, alreadyHeld: true });
      expect(await ledger.reserveChange(scope, 'r-2', 2, 3600, t0)).toMatchObject({ allowed: false, used: 2 });
    });

    it("frees slots once the window has passed, counting from a resource's latest reservation", async () => {
      const ledger = await makeLedger(testClock());
      const scope = uniqueId('playbook');
      const t0 = new Date('2025-03-14T09:00:00.000Z');
      const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);
      await ledger.reserveChange(scope, 'r-0', 2, 3600, t0);
      await ledger.reserveChange(scope, 'r-1', 2, 3600, at(10));
      // r-1 is changed again late in its window: in the hour before 3660 it was changed, so it still counts then.
      await ledger.reserveChange(scope, 'r-1', 2, 3600, at(3000));

      expect(await ledger.reserveChange(scope, 'r-2', 2, 3600, at(3599))).toEqual({ allowed: false, used: 2, limit: 2, holders: ['r-0', 'r-1'] });
      expect(await ledger.reserveChange(scope, 'r-2', 2, 3600, at(3600))).toEqual({ allowed: true, used: 2, limit: 2, alreadyHeld: false });
      expect(await ledger.reserveChange(scope, 'r-3', 2, 3600, at(3660))).toEqual({ allowed: false, used: 2, limit: 2, holders: ['r-2', 'r-1'] });
      expect(await ledger.reserveChange(scope, 'r-3', 2, 3600, at(6600))).toEqual({ allowed: true, used: 2, limit: 2, alreadyHeld: false });
      expect(await ledger.reserveChange(scope, 'r-0', 2, 3600, at(7200))).toEqual({ allowed: true, used: 2, limit: 2, alreadyHeld: false });
    });

    it('lets exactly a limit of 20 concurrent reservations of distinct resources through', async () => {
      const ledger = await makeLedger(testClock());
      const scope = uniqueId('playbook');

      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.reserveChange(scope, `r-${i}`, 5, 3600)));

      const allowed = results.flatMap((result, i) => (result.allowed ? [`r-${i}`] : []));
      expect(allowed).toHaveLength(5);
      for (const result of results) {
        if (!result.allowed) expect([...result.holders].sort()).toEqual([...allowed].sort());
      }
      expect(await ledger.reserveChange(scope, 'late', 5, 3600)).toEqual({ allowed: false, used: 5, limit: 5, holders: expect.arrayContaining(allowed) });
    });

    it('keeps scopes apart', async () => {
      const ledger = await makeLedger(testClock());
      const [one, two] = [uniqueId('playbook'), uniqueId('playbook')];
      await ledger.reserveChange(one, 'r-0', 1, 3600);

      expect(await ledger.reserveChange(one, 'r-1', 1, 3600)).toMatchObject({ allowed: false, holders: ['r-0'] });
      expect(await ledger.reserveChange(two, 'r-1', 1, 3600)).toEqual({ allowed: true, used: 1, limit: 1, alreadyHeld: false });
      expect(await ledger.reserveChange(two, 'r-0', 1, 3600)).toMatchObject({ allowed: false, holders: ['r-1'] });
    });

    it('ignores slots beyond a lowered limit', async () => {
      const ledger = await makeLedger(testClock());
      const scope = uniqueId('playbook');
      for (const resource of ['r-0', 'r-1', 'r-2']) await ledger.reserveChange(scope, resource, 3, 3600);

      expect(await ledger.reserveChange(scope, 'r-3', 2, 3600)).toEqual({ allowed: false, used: 2, limit: 2, holders: ['r-0', 'r-1'] });
      expect(await ledger.reserveChange(scope, 'r-2', 2, 3600)).toMatchObject({ allowed: false, holders: ['r-0', 'r-1'] });
      expect(await ledger.reserveChange(scope, 'r-2', 3, 3600)).toEqual({ allowed: true, used: 3, limit: 3, alreadyHeld: true });
    });

    it('rejects limits and windows that cannot mean anything', async () => {
      const ledger = await makeLedger(testClock());
      const scope = uniqueId('playbook');

      for (const [limit, window] of [
        [0, 60],
        [-1, 60],
        [1.5, 60],
        [Number.NaN, 60],
        [1, 0],
        [1, 0.5],
        [1, Number.POSITIVE_INFINITY],
      ] as const) {
        await expect(ledger.reserveChange(scope, 'r', limit, window)).rejects.toThrow(RangeError);
      }
      await expect(ledger.reserveChange(scope, 'r', 0, 60)).rejects.toThrow(/change limit is a whole number of resources above zero, not 0/);
      await expect(ledger.reserveChange(scope, 'r', 1, -5)).rejects.toThrow(/window is a whole number of seconds above zero, not -5/);
    });

    it('lists the runs of a finding, oldest first', async () => {
      const clock = testClock();
      const ledger = await makeLedger(clock);
      const findingId = uniqueId('finding');
      const first = await ledger.startRun(newRun({ findingId, playbookId: 'a' }));
      clock.advance(1);
      const second = await ledger.startRun(newRun({ findingId, playbookId: 'b' }));
      clock.advance(1);
      await ledger.startRun(newRun());
      await ledger.appendStep(first.runId, step(0));

      const runs = await ledger.listRunsForFinding(findingId);

      expect(runs.map((run) => run.runId)).toEqual([first.runId, second.runId]);
      expect(runs[0]?.steps).toHaveLength(1);
      expect(await ledger.listRunsForFinding(uniqueId('nothing'))).toEqual([]);
    });

    it('lists runs of every finding newest first, each as its listing fields, and only those since a time', async () => {
      // A time of its own (2090): other tests share a DynamoDB table, and their runs are older.
      const clock = testClock('2090-01-01T00:00:00.000Z');
      const ledger = await makeLedger(clock);
      const old = await ledger.startRun(newRun({ playbookId: 'a' }));
      clock.advance(3600);
      const since = clock.now();
      const newer = await ledger.startRun(newRun({ playbookId: 'b', trigger: 'api', mode: 'plan' }));
      await ledger.appendStep(newer.runId, step(0));
      clock.advance(60);
      const newest = await ledger.startRun(newRun({ playbookId: 'c' }));
      const finished = await ledger.finishRun(newest.runId, 'succeeded', { summary: 'done' });
      const mine = new Set([old.runId, newer.runId, newest.runId]);

      const all = (await ledger.listRuns()).filter((run) => mine.has(run.runId));
      const recent = (await ledger.listRuns({ since })).filter((run) => mine.has(run.runId));

      expect(all.map((run) => run.runId)).toEqual([newest.runId, newer.runId, old.runId]);
      expect(recent.map((run) => run.runId)).toEqual([newest.runId, newer.runId]);
      expect(recent[0]).toEqual({
        runId: newest.runId,
        createdAt: '2090-01-01T01:01:00.000Z',
        updatedAt: finished.updatedAt,
        playbookId: 'c',
        findingId: newest.findingId,
        account: '111122223333',
        region: 'us-east-1',
        trigger: 'automatic',
        mode: 'enforce',
        status: 'succeeded',
      });
      expect(recent[1]).toMatchObject({ runId: newer.runId, playbookId: 'b', trigger: 'api', mode: 'plan', status: 'in-progress' });
      expect(Object.keys(recent[1] ?? {}).sort()).toEqual([...LISTED_RUN_FIELDS].sort());
      expect(await ledger.listRuns({ since: new Date('2099-01-01T00:00:00.000Z') })).toEqual([]);
    });
  });
}
