import { describe, expect, it } from 'vitest';

import { readEvent } from '../../src/intake/index.js';
import {
  LedgerConflictError,
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
  now(): Date;
  advance(seconds: number): void;
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

      expect(after.steps[0]?.error).toEqual({ name: 'RunNotFoundError', code: 'LEDGER_RUN_NOT_FOUND', message: 'no run x is recorded', retryable: false, context: { resource: 'x' } });
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
      const adminDelivery = fixture<Record<string, unknown> & { detail: { findings: Record<string, unknown>[] } }>(
        'securityhub-imported-cis-password-policy.json',
      );
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
  });
}
