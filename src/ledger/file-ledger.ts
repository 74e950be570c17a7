import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ErrorContext } from '../errors.js';
import { LedgerStoreError, RunAlreadyExistsError, RunNotFoundError } from './errors.js';
import type { RunLedger, RunLedgerOptions } from './ledger.js';
import { claimInDocument, releaseInDocument, reserveInDocument, transferInDocument, type ClaimsDocument, type DocumentChange, type LimitsDocument } from './documents.js';
import { assertChangeLimit, assertClaimWindow, listedRun, newestFirst, newRunRecord, oldestFirst, withFinish, withinQuery, withState, withStep } from './rules.js';
import type { RunState } from './run-state.js';
import type { ChangeReservation, ClaimResult, ListedRun, NewRun, RunOutcome, RunQuery, RunRecord, StepRecord, TerminalRunStatus } from './types.js';

export interface FileRunLedgerOptions extends RunLedgerOptions {
  /** How long to wait for another writer's lock before giving up (default 10 s). */
  readonly lockTimeoutMs?: number;
  /** A lock older than this is taken to be left by a crashed process and removed (default 30 s). */
  readonly staleLockMs?: number;
}

/**
 * The CLI's local run ledger: one JSON file per run under `<dir>/runs/`, the
 * idempotency claims in `<dir>/claims.json` and the change-limit slots in
 * `<dir>/limits.json`.
 *
 * Every write goes to a temporary file that is then renamed over the target,
 * so a reader (or a crash) never sees half a record; a lock file per record
 * (created with O_EXCL) keeps concurrent writers — in this process or another
 * — from losing each other's appends. Listing (by finding, or by time) reads
 * every run file: fine for a laptop's history, which is what this store is for.
 *
 * ```ts
 * const ledger = new FileRunLedger('.riposte/ledger');
 * ```
 */
export class FileRunLedger implements RunLedger {
  readonly directory: string;
  readonly #clock: () => Date;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;

  constructor(directory: string, options: FileRunLedgerOptions = {}) {
    this.directory = directory;
    this.#clock = options.clock ?? (() => new Date());
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.#staleLockMs = options.staleLockMs ?? 30_000;
  }

  async startRun(run: NewRun): Promise<RunRecord> {
    const path = this.#runPath(run.runId);
    await mkdir(join(this.directory, 'runs'), { recursive: true });
    return this.#withLock(path, async () => {
      const existing = await this.#readRun(path);
      if (existing !== undefined) throw new RunAlreadyExistsError(existing);
      const record = newRunRecord(run, this.#clock());
      await writeAtomically(path, record);
      return record;
    });
  }

  async appendStep(runId: string, step: StepRecord, expectedVersion?: number, next?: RunState): Promise<RunRecord> {
    return this.#update(runId, (current) => withStep(current, step, expectedVersion, this.#clock(), next));
  }

  async advanceRun(runId: string, next: RunState, expectedVersion: number): Promise<RunRecord> {
    return this.#update(runId, (current) => withState(current, next, expectedVersion, this.#clock()));
  }

  async finishRun(runId: string, status: TerminalRunStatus, outcome: RunOutcome, expectedVersion?: number): Promise<RunRecord> {
    return this.#update(runId, (current) => withFinish(current, status, outcome, expectedVersion, this.#clock()));
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#readRun(this.#runPath(runId));
  }

  async claim(key: string, runId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    return this.#changeDocument<ClaimsDocument, ClaimResult>('claims.json', (claims) => claimInDocument(claims, key, runId, windowSeconds, now));
  }

  async transferClaim(key: string, fromRunId: string, toRunId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    return this.#changeDocument<ClaimsDocument, ClaimResult>('claims.json', (claims) => transferInDocument(claims, key, fromRunId, toRunId, windowSeconds, now));
  }

  async releaseClaim(key: string, runId: string): Promise<void> {
    await this.#changeDocument<ClaimsDocument, void>('claims.json', (claims) => releaseInDocument(claims, key, runId));
  }

  async reserveChange(scope: string, resourceKey: string, limit: number, windowSeconds: number, now: Date = this.#clock()): Promise<ChangeReservation> {
    assertChangeLimit(limit, windowSeconds);
    return this.#changeDocument<LimitsDocument, ChangeReservation>('limits.json', (limits) => reserveInDocument(limits, scope, resourceKey, limit, windowSeconds, now));
  }

  /** Changes `claims.json` or `limits.json` (`documents.ts`) under its lock, writing it only when the change has something to write. */
  async #changeDocument<Document, Answer>(name: string, change: (current: Document) => DocumentChange<Document, Answer>): Promise<Answer> {
    const path = join(this.directory, name);
    await mkdir(this.directory, { recursive: true });
    return this.#withLock(path, async () => {
      const { answer, next } = change((await readJson<Document>(path)) ?? ({} as Document));
      if (next !== undefined) await writeAtomically(path, next);
      return answer;
    });
  }

  async listRunsForFinding(findingId: string): Promise<RunRecord[]> {
    const runs = await this.#allRuns('list runs', { findingId });
    return runs.filter((run) => run.findingId === findingId).sort(oldestFirst);
  }

  async listRuns(query: RunQuery = {}): Promise<ListedRun[]> {
    const runs = await this.#allRuns('list runs', {});
    return runs
      .filter((run) => withinQuery(run, query))
      .map(listedRun)
      .sort(newestFirst);
  }

  /** Every run file's record (none when the directory does not exist yet); lock and temporary files are not run files. */
  async #allRuns(operation: string, context: ErrorContext): Promise<RunRecord[]> {
    const runsDirectory = join(this.directory, 'runs');
    let names: string[];
    try {
      names = await readdir(runsDirectory);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw new LedgerStoreError(operation, error, context);
    }
    const runs = await Promise.all(names.filter((name) => name.endsWith('.json')).map((name) => this.#readRun(join(runsDirectory, name))));
    return runs.filter((run): run is RunRecord => run !== undefined);
  }

  async #update(runId: string, change: (current: RunRecord) => RunRecord): Promise<RunRecord> {
    const path = this.#runPath(runId);
    await mkdir(join(this.directory, 'runs'), { recursive: true });
    return this.#withLock(path, async () => {
      const current = await this.#readRun(path);
      if (current === undefined) throw new RunNotFoundError(runId);
      const next = change(current);
      await writeAtomically(path, next);
      return next;
    });
  }

  /** Run ids become file names; encoding keeps `/` and `..` from reaching outside the directory. */
  #runPath(runId: string): string {
    return join(this.directory, 'runs', `${encodeURIComponent(runId)}.json`);
  }

  async #readRun(path: string): Promise<RunRecord | undefined> {
    return readJson<RunRecord>(path);
  }

  async #withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
    const lockPath = `${path}.lock`;
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new LedgerStoreError('take a lock', error, { file: lockPath });
      }
      await this.#removeStaleLock(lockPath);
      if (Date.now() > deadline) {
        throw new LedgerStoreError('take a lock', new Error(`${lockPath} is still held after ${this.#lockTimeoutMs} ms`), { file: lockPath }, true);
      }
      await sleep(2 + Math.floor(Math.random() * 8));
    }
    try {
      return await work();
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  }

  async #removeStaleLock(lockPath: string): Promise<void> {
    try {
      const { mtimeMs } = await stat(lockPath);
      if (Date.now() - mtimeMs > this.#staleLockMs) await unlink(lockPath);
    } catch {
      // Gone already: the holder finished.
    }
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new LedgerStoreError(`read ${path}`, error, { file: path });
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new LedgerStoreError(`parse ${path}`, error, { file: path });
  }
}

/** Write to a temporary file in the same directory, flush it, then rename it over the target. */
async function writeAtomically(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new LedgerStoreError(`write ${path}`, error, { file: path });
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
