import { describe, expect, it } from 'vitest';

import { MemoryRunLedger } from '../../src/ledger/index.js';
import { newRun, runLedgerContract, step, testClock } from './ledger-contract.js';

runLedgerContract('MemoryRunLedger', async (clock) => new MemoryRunLedger({ clock: clock.now }));

describe('MemoryRunLedger', () => {
  it('hands out copies: changing a record it returned changes nothing it keeps', async () => {
    const ledger = new MemoryRunLedger({ clock: testClock().now });
    const run = newRun();
    const started = await ledger.startRun(run);
    const appended = await ledger.appendStep(run.runId, step(0));

    (started as { status: string }).status = 'succeeded';
    (appended.steps as unknown[]).push(step(1));
    const read = await ledger.getRun(run.runId);
    (read?.history as unknown[]).push({ state: { stage: 'guarded' }, at: 'x' });

    const again = await ledger.getRun(run.runId);
    expect(again).toMatchObject({ status: 'in-progress', version: 2 });
    expect(again?.steps).toHaveLength(1);
    expect(again?.history).toHaveLength(1);
    expect(await ledger.listRunsForFinding(run.findingId)).toEqual([again]);
  });

  it('keeps nothing between two ledgers', async () => {
    const one = new MemoryRunLedger();
    const two = new MemoryRunLedger();
    const run = newRun();
    await one.startRun(run);
    await one.claim('k', run.runId, 60);

    expect(await two.getRun(run.runId)).toBeUndefined();
    expect(await two.claim('k', 'run-b', 60)).toEqual({ claimed: true });
  });
});
