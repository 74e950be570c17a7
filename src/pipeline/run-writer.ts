import type { RunLedger, RunOutcome, RunRecord, RunState, StepRecord, TerminalRunStatus } from '../ledger/index.js';

/**
 * Writes one run's record in order, each write naming the version it
 * follows: if another worker writes to the same run meanwhile (a duplicate
 * resume message), this one gets `LedgerConflictError` and stops, instead
 * of the two interleaving. Moves between stages go through it too, so the
 * ledger's state and history follow the run.
 *
 * Steps that run side by side write through one writer: each write waits
 * for the one before it, so they never race each other for a version.
 */
export class RunWriter {
  readonly #ledger: RunLedger;
  #record: RunRecord;
  /** Steps appended by this writer (a resumed run's earlier steps are in `record`). */
  readonly #appended: StepRecord[] = [];
  /** The last write asked for: the next one starts when it has settled. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(ledger: RunLedger, record: RunRecord) {
    this.#ledger = ledger;
    this.#record = record;
  }

  get record(): RunRecord {
    return this.#record;
  }

  get runId(): string {
    return this.#record.runId;
  }

  get appended(): readonly StepRecord[] {
    return this.#appended;
  }

  /** Appends a step record; with `next`, the run moves to that state in the same write. */
  append(step: StepRecord, next?: RunState): Promise<void> {
    return this.#inTurn(async () => {
      this.#record = await this.#ledger.appendStep(this.#record.runId, step, this.#record.version, next);
      this.#appended.push(step);
    });
  }

  /** Moves the run to its next stage. */
  advance(next: RunState): Promise<void> {
    return this.#inTurn(async () => {
      this.#record = await this.#ledger.advanceRun(this.#record.runId, next, this.#record.version);
    });
  }

  finish(status: TerminalRunStatus, outcome: RunOutcome): Promise<RunRecord> {
    return this.#inTurn(async () => {
      this.#record = await this.#ledger.finishRun(this.#record.runId, status, outcome, this.#record.version);
      return this.#record;
    });
  }

  /** Runs `write` once every write asked for before it has settled (succeeded or not). */
  #inTurn<T>(write: () => Promise<T>): Promise<T> {
    const turn = this.#last.then(write);
    this.#last = turn.catch(() => undefined);
    return turn;
  }
}
