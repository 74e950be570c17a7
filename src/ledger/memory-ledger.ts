import { claimInDocument, releaseInDocument, reserveInDocument, transferInDocument, type ClaimsDocument, type DocumentChange, type LimitsDocument } from './documents.js';
import { RunAlreadyExistsError, RunNotFoundError } from './errors.js';
import type { RunLedger, RunLedgerOptions } from './ledger.js';
import { assertChangeLimit, assertClaimWindow, listedRun, newestFirst, newRunRecord, oldestFirst, withFinish, withinQuery, withState, withStep } from './rules.js';
import type { RunState } from './run-state.js';
import type { ChangeReservation, ClaimResult, ListedRun, NewRun, RunOutcome, RunQuery, RunRecord, StepRecord, TerminalRunStatus } from './types.js';

/**
 * A run ledger held in this process's memory, gone with it: for runs whose
 * record nobody reads afterwards (`riposte test` replaying a case: a disk
 * write per step was most of the replay's time). It keeps what the file
 * store keeps, by the same rules (`rules.ts`, and `documents.ts` for claims
 * and slots), without the disk: each record is kept as its JSON text, so
 * what is read back is a copy, equal to what was written, as a file's is.
 *
 * Each call reads, decides and writes without awaiting anything in between,
 * so concurrent callers never interleave inside one another's change: what
 * the file store's locks are for.
 *
 * ```ts
 * const ledger = new MemoryRunLedger();
 * ```
 */
export class MemoryRunLedger implements RunLedger {
  readonly #clock: () => Date;
  /** Run id -> the record's JSON text. */
  readonly #runs = new Map<string, string>();
  #claims: ClaimsDocument = {};
  #limits: LimitsDocument = {};

  constructor(options: RunLedgerOptions = {}) {
    this.#clock = options.clock ?? (() => new Date());
  }

  async startRun(run: NewRun): Promise<RunRecord> {
    const existing = this.#read(run.runId);
    if (existing !== undefined) throw new RunAlreadyExistsError(existing);
    const record = newRunRecord(run, this.#clock());
    this.#runs.set(run.runId, JSON.stringify(record));
    return record;
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
    return this.#read(runId);
  }

  async claim(key: string, runId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    return this.#changeClaims(claimInDocument(this.#claims, key, runId, windowSeconds, now));
  }

  async transferClaim(key: string, fromRunId: string, toRunId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    return this.#changeClaims(transferInDocument(this.#claims, key, fromRunId, toRunId, windowSeconds, now));
  }

  async releaseClaim(key: string, runId: string): Promise<void> {
    this.#changeClaims(releaseInDocument(this.#claims, key, runId));
  }

  async reserveChange(scope: string, resourceKey: string, limit: number, windowSeconds: number, now: Date = this.#clock()): Promise<ChangeReservation> {
    assertChangeLimit(limit, windowSeconds);
    const { answer, next } = reserveInDocument(this.#limits, scope, resourceKey, limit, windowSeconds, now);
    if (next !== undefined) this.#limits = next;
    return answer;
  }

  async listRunsForFinding(findingId: string): Promise<RunRecord[]> {
    return this.#all()
      .filter((run) => run.findingId === findingId)
      .sort(oldestFirst);
  }

  async listRuns(query: RunQuery = {}): Promise<ListedRun[]> {
    return this.#all()
      .filter((run) => withinQuery(run, query))
      .map(listedRun)
      .sort(newestFirst);
  }

  #changeClaims<Answer>({ answer, next }: DocumentChange<ClaimsDocument, Answer>): Answer {
    if (next !== undefined) this.#claims = next;
    return answer;
  }

  #update(runId: string, change: (current: RunRecord) => RunRecord): RunRecord {
    const current = this.#read(runId);
    if (current === undefined) throw new RunNotFoundError(runId);
    const next = change(current);
    this.#runs.set(runId, JSON.stringify(next));
    return next;
  }

  #read(runId: string): RunRecord | undefined {
    const text = this.#runs.get(runId);
    return text === undefined ? undefined : (JSON.parse(text) as RunRecord);
  }

  #all(): RunRecord[] {
    return [...this.#runs.values()].map((text) => JSON.parse(text) as RunRecord);
  }
}
