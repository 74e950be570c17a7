import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
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

  it('lists runs while another writer holds a run’s lock and leaves a temporary file (neither is a run)', async () => {
    const directory = await freshDirectory();
    const ledger = new FileRunLedger(directory, { clock: testClock().now });
    const run = await ledger.startRun(newRun());
    const file = join(directory, 'runs', `${encodeURIComponent(run.runId)}.json`);
    await writeFile(`${file}.lock`, '');
    await writeFile(`${file}.123.abcdef.tmp`, '{"runId":"half-writ');

    const runs = await ledger.listRuns();

    expect(runs.map((listed) => listed.runId)).toEqual([run.runId]);
  });

  it('lists no runs, without creating anything, in a directory never written', async () => {
    const directory = join(await freshDirectory(), 'never-written');

    expect(await new FileRunLedger(directory).listRuns()).toEqual([]);
    await expect(readdir(directory)).rejects.toMatchObject({ code: 'ENOENT' });
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
    expect(await two.transferClaim('k', 'run-a', 'run-c', 60)).toEqual({ claimed: true });
    expect(await one.claim('k', 'run-a', 60)).toEqual({ claimed: false, existingRunId: 'run-c' });
    const reservations = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? one : two).reserveChange('p', `r-${i}`, 3, 60)));
    expect(reservations.filter((reservation) => reservation.allowed)).toHaveLength(3);
  });

  it('keeps the change-limit slots in limits.json, dropping expired ones as it rewrites the file', async () => {
    const directory = await freshDirectory();
    const ledger = new FileRunLedger(directory);
    const t0 = new Date('2025-03-14T09:00:00.000Z');
    const later = new Date(t0.getTime() + 60_000);
    await ledger.reserveChange('p', 'r-0', 2, 60, t0);
    await ledger.reserveChange('q', 'r-1', 2, 60, t0);
    await ledger.reserveChange('p', 'r-2', 2, 120, t0);
    await ledger.reserveChange('p', 'r-3', 2, 60, later);

    const limits = JSON.parse(await readFile(join(directory, 'limits.json'), 'utf8')) as unknown;

    expect(limits).toEqual({
      p: {
        0: { resourceKey: 'r-3', reservedAt: later.toISOString(), expiresAt: later.getTime() / 1000 + 60 },
        1: { resourceKey: 'r-2', reservedAt: t0.toISOString(), expiresAt: t0.getTime() / 1000 + 120 },
      },
    });
    expect((await readdir(directory)).sort()).toEqual(['limits.json']);
  });

  // Issue 11: `maxResourcesPerHour: 9007199254740991` hung the file ledger, which
  // walked and built `limit` slots on every call. The schema now refuses it; the
  // ledger must not depend on it: a reservation costs what is held, never what
  // the limit allows. (Before, the first call below never returned.)
  it('reserves under a limit of 9007199254740991 (2^53 - 1) as under a small one, reading only the slots held', async () => {
    const directory = await freshDirectory();
    const ledger = new FileRunLedger(directory, { clock: testClock().now });
    const limit = Number.MAX_SAFE_INTEGER;

    const first = await Promise.all(['r-0', 'r-1', 'r-2'].map((resource) => ledger.reserveChange('p', resource, limit, 3600)));
    const again = await ledger.reserveChange('p', 'r-1', limit, 3600);
    const lowered = await ledger.reserveChange('p', 'r-3', 3, 3600);

    expect(first.map((reservation) => reservation.allowed)).toEqual([true, true, true]);
    expect(again).toEqual({ allowed: true, used: 3, limit, alreadyHeld: true });
    expect(lowered).toEqual({ allowed: false, used: 3, limit: 3, holders: expect.arrayContaining(['r-0', 'r-1', 'r-2']) as unknown });
    const limits = JSON.parse(await readFile(join(directory, 'limits.json'), 'utf8')) as { p: Record<string, { resourceKey: string }> };
    expect(Object.keys(limits.p).sort()).toEqual(['0', '1', '2']);
  });

  it('keeps claim keys and scopes named after Object.prototype members as plain entries', async () => {
    const directory = await freshDirectory();
    const ledger = new FileRunLedger(directory, { clock: testClock().now });

    expect(await ledger.claim('constructor', 'run-a', 60)).toEqual({ claimed: true });
    expect(await ledger.claim('__proto__', 'run-b', 60)).toEqual({ claimed: true });
    expect(await ledger.claim('toString', 'run-c', 60)).toEqual({ claimed: true });
    expect(await ledger.claim('__proto__', 'run-d', 60)).toEqual({ claimed: false, existingRunId: 'run-b' });
    expect(await ledger.reserveChange('constructor', 'r-0', 1, 60)).toMatchObject({ allowed: true });
    expect(await ledger.reserveChange('constructor', 'r-1', 1, 60)).toMatchObject({ allowed: false, holders: ['r-0'] });

    const claims = JSON.parse(await readFile(join(directory, 'claims.json'), 'utf8')) as Record<string, { runId: string }>;
    expect(Object.entries(claims).map(([key, claim]) => [key, claim.runId])).toEqual([
      ['constructor', 'run-a'],
      ['__proto__', 'run-b'],
      ['toString', 'run-c'],
    ]);
  });
});
