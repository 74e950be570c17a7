import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { FileRunLedger } from '../../src/ledger/index.js';
import { newRun, runLedgerContract, step, testClock } from './ledger-contract.js';

const directories: string[] = [];
async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'riposte-ledger-'));
  directories.push(directory);
  return directory;
}

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

runLedgerContract('FileRunLedger', async (clock) => new FileRunLedger(await freshDirectory(), { clock: clock.now }));

describe('FileRunLedger', () => {
  it('keeps one JSON file per run and leaves no temporary or lock files behind', async () => {
    const directory = await freshDirectory();
    const ledger = new FileRunLedger(directory, { clock: testClock().now });
    const run = newRun({ runId: 'run/../../escape' });
    await ledger.startRun(run);
    await Promise.all(Array.from({ length: 5 }, (_, i) => ledger.appendStep(run.runId, step(i))));
    await ledger.claim('k', run.runId, 60);

    const files = await readdir(join(directory, 'runs'));
    const written = JSON.parse(await readFile(join(directory, 'runs', files[0] as string), 'utf8')) as { runId: string; steps: unknown[] };

    expect(files).toEqual([`${encodeURIComponent('run/../../escape')}.json`]);
    expect(written).toMatchObject({ runId: run.runId, version: 6 });
    expect(written.steps).toHaveLength(5);
    expect((await readdir(directory)).sort()).toEqual(['claims.json', 'runs']);
  });

  it('is shared by two ledgers on the same directory (as two CLI processes would be)', async () => {
    const directory = await freshDirectory();
    const one = new FileRunLedger(directory);
    const two = new FileRunLedger(directory);
    const run = newRun();
    await one.startRun(run);

    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).appendStep(run.runId, step(i))));

    expect((await two.getRun(run.runId))?.steps).toHaveLength(10);
    expect(await one.claim('k', 'run-a', 60)).toEqual({ claimed: true });
    expect(await two.claim('k', 'run-b', 60)).toEqual({ claimed: false, existingRunId: 'run-a' });
  });
});
