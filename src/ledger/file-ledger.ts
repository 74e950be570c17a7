import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ErrorContext } from '../errors.js';
import { LedgerStoreError, RunAlreadyExistsError, RunNotFoundError } from './errors.js';
import type { RunLedger, RunLedgerOptions } from './ledger.js';
import {
  assertChangeLimit,
  assertClaimWindow,
  claimOutcome,
  epochSeconds,
  freeSlot,
  limitReached,
  listedRun,
  newestFirst,
  newRunRecord,
  TAKE,
  transferOutcome,
  withFinish,
  withinQuery,
  withState,
  withStep,
} from './rules.js';
import type { RunState } from './run-state.js';
import type { ChangeReservation, ClaimResult, ListedRun, NewRun, RunOutcome, RunQuery, RunRecord, StepRecord, TerminalRunStatus } from './types.js';

export interface FileRunLedgerOptions extends RunLedgerOptions {
  /** How long to wait for another writer's lock before giving up (default 10 s). */
  readonly lockTimeoutMs?: number;
  /** A lock older than this is taken to be left by a crashed process and removed (default 30 s). */
  readonly staleLockMs?: number;
}

interface ClaimEntry {
  readonly runId: string;
  readonly claimedAt: string;
  /** Epoch seconds, as in the DynamoDB store. */
  readonly expiresAt: number;
}

type ClaimsFile = Record<string, ClaimEntry>;

interface SlotEntry {
  readonly resourceKey: string;
  readonly reservedAt: string;
  /** Epoch seconds, as in the DynamoDB store. */
  readonly expiresAt: number;
}

/** Scope -> slot index -> the resource holding it; the DynamoDB store's slot items, in one file. */
type LimitsFile = Record<string, Record<string, SlotEntry>>;

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
    return this.#updateClaim(key, windowSeconds, now, runId, (held, nowSeconds) => claimOutcome(held, runId, nowSeconds));
  }

  async transferClaim(key: string, fromRunId: string, toRunId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    return this.#updateClaim(key, windowSeconds, now, toRunId, (held, nowSeconds) => transferOutcome(held, fromRunId, toRunId, nowSeconds));
  }

  /**
   * Claims and transfers, under the claims file's lock: the rule answers
   * from who holds the key now, or says to take it for `runId`.
   */
  async #updateClaim(
    key: string,
    windowSeconds: number,
    now: Date,
    runId: string,
    rule: (held: { holder: string; expiresAt: number } | undefined, nowSeconds: number) => ClaimResult | typeof TAKE,
  ): Promise<ClaimResult> {
    const path = join(this.directory, 'claims.json');
    await mkdir(this.directory, { recursive: true });
    return this.#withLock(path, async () => {
      const claims = (await readJson<ClaimsFile>(path)) ?? {};
      const nowSeconds = epochSeconds(now);
      const held = ownEntry(claims, key);
      const outcome = rule(held === undefined ? undefined : { holder: held.runId, expiresAt: held.expiresAt }, nowSeconds);
      if (outcome !== TAKE) return outcome;
      // Expired claims are dropped as the file is rewritten (DynamoDB's TTL does the same, lazily).
      // Object.fromEntries defines each key as data, where `kept[key] = …` would run a `__proto__` setter.
      const claim: ClaimEntry = { runId, claimedAt: now.toISOString(), expiresAt: nowSeconds + windowSeconds };
      const kept: ClaimsFile = Object.fromEntries([...Object.entries(claims).filter(([name, entry]) => name !== key && entry.expiresAt > nowSeconds), [key, claim]]);
      await writeAtomically(path, kept);
      return { claimed: true };
    });
  }

  async releaseClaim(key: string, runId: string): Promise<void> {
    const path = join(this.directory, 'claims.json');
    await mkdir(this.directory, { recursive: true });
    await this.#withLock(path, async () => {
      const claims = (await readJson<ClaimsFile>(path)) ?? {};
      if (ownEntry(claims, key)?.runId !== runId) return;
      await writeAtomically(path, Object.fromEntries(Object.entries(claims).filter(([name]) => name !== key)));
    });
  }

  async reserveChange(scope: string, resourceKey: string, limit: number, windowSeconds: number, now: Date = this.#clock()): Promise<ChangeReservation> {
    assertChangeLimit(limit, windowSeconds);
    const path = join(this.directory, 'limits.json');
    await mkdir(this.directory, { recursive: true });
    return this.#withLock(path, async () => {
      const limits = (await readJson<LimitsFile>(path)) ?? {};
      const nowSeconds = epochSeconds(now);
      const expiresAt = nowSeconds + windowSeconds;
      // The slots that are held, read as they are stored: the work is what is
      // held, never what the limit allows. Slots beyond a lowered limit are
      // ignored, as in the DynamoDB store.
      const held = new Map<number, SlotEntry>();
      for (const [key, slot] of Object.entries(ownEntry(limits, scope) ?? {})) {
        const index = Number(key);
        if (Number.isInteger(index) && index >= 0 && index < limit && slot.expiresAt > nowSeconds) held.set(index, slot);
      }
      const mine = [...held].find(([, slot]) => slot.resourceKey === resourceKey);
      let taken: number | undefined;
      if (mine !== undefined) {
        if (mine[1].expiresAt >= expiresAt) return { allowed: true, used: held.size, limit, alreadyHeld: true };
        taken = mine[0];
      } else {
        taken = freeSlot(held, limit);
        if (taken === undefined) return limitReached(new Map([...held].map(([index, slot]) => [index, slot.resourceKey])), limit);
      }
      // Expired slots are dropped as the file is rewritten (DynamoDB's TTL does the same, lazily).
      const slot: SlotEntry = { resourceKey, reservedAt: now.toISOString(), expiresAt };
      const live = (slots: Record<string, SlotEntry>): Array<[string, SlotEntry]> => Object.entries(slots).filter(([, entry]) => entry.expiresAt > nowSeconds);
      const kept: LimitsFile = Object.fromEntries([
        ...Object.entries(limits)
          .filter(([name]) => name !== scope)
          .map(([name, slots]): [string, Record<string, SlotEntry>] => [name, Object.fromEntries(live(slots))])
          .filter(([, slots]) => Object.keys(slots).length > 0),
        [scope, Object.fromEntries([...live(ownEntry(limits, scope) ?? {}).filter(([index]) => index !== String(taken)), [String(taken), slot]])],
      ]);
      await writeAtomically(path, kept);
      return { allowed: true, used: mine === undefined ? held.size + 1 : held.size, limit, alreadyHeld: mine !== undefined };
    });
  }

  async listRunsForFinding(findingId: string): Promise<RunRecord[]> {
    const runs = await this.#allRuns('list runs', { findingId });
    return runs.filter((run) => run.findingId === findingId).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
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

/**
 * `record[key]` when `record` itself holds it: claim keys carry a finding's
 * id and scopes a playbook's, and neither may find `Object.prototype`'s members.
 */
function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
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
