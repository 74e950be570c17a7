import type { SerializedError } from '../errors.js';
import type { TriggerKind } from '../intake/index.js';
import type { RunState, RunTransition } from './run-state.js';

/** Every state a run can be in; `as const` so the values are data and the union derives from them. */
export const RUN_STATUSES = ['started', 'in-progress', 'succeeded', 'failed', 'skipped', 'rolled-back'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The states that end a run: `finishRun()` moves a run into one, and nothing is appended after. */
export const TERMINAL_RUN_STATUSES = ['succeeded', 'failed', 'skipped', 'rolled-back'] as const;
export type TerminalRunStatus = (typeof TERMINAL_RUN_STATUSES)[number];

export const RUN_MODES = ['enforce', 'plan'] as const;
export type RunMode = (typeof RUN_MODES)[number];

export const STEP_PHASES = ['plan', 'run', 'verify', 'rollback'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

export const STEP_STATUSES = ['changed', 'compliant', 'skipped', 'failed', 'in-progress'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A digest of one evidence object (metadata capture, console output), by its storage key. */
export interface EvidenceDigest {
  readonly key: string;
  readonly sha256: string;
}

/** One field a step changed (or would change), from what to what. */
export interface StepChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** The outcome of one phase of one playbook step, appended to the run as it finishes. */
export interface StepRecord {
  /** The step's position in the playbook (several phases of one step share it). */
  readonly index: number;
  /** The action's name, e.g. `ec2.isolate`. */
  readonly action: string;
  readonly phase: StepPhase;
  readonly status: StepStatus;
  readonly summary: string;
  readonly changes: readonly StepChange[];
  /** What the change replaced: `rollback()` takes it back. */
  readonly undo?: unknown;
  readonly error?: SerializedError;
  readonly evidence?: readonly EvidenceDigest[];
  /** ISO 8601. */
  readonly at: string;
  /**
   * The step finished in an earlier attempt of the same work (a failed run
   * this one retries); its record is carried over, with its undo, instead of
   * running the change again.
   */
  readonly carriedFromRunId?: string;
  /** For status `in-progress`: what is still running and when to look again. */
  readonly inProgress?: StepProgress;
}

/** A step that has started something long (an SSM command, many snapshots) and must be looked at again later. */
export interface StepProgress {
  /** What is still running, e.g. `command 1a2b… is InProgress`. */
  readonly detail: string;
  /** When to look again. */
  readonly checkAfterSeconds: number;
}

/** How a run ended: what the finding was set to and why. */
export interface RunOutcome {
  readonly summary: string;
  /** The Security Hub workflow status Riposte set (`RESOLVED`, `NOTIFIED`), if any. */
  readonly workflowStatus?: string;
  readonly error?: SerializedError;
  /** Anything else the pipeline wants kept with the outcome (plain JSON). */
  readonly details?: unknown;
}

/** One run of one playbook on one finding: the audit record. */
export interface RunRecord {
  readonly runId: string;
  /** The id every log line of the run carries. */
  readonly correlationId: string;
  readonly findingId: string;
  /** The finding's own updated-at (part of the idempotency key). */
  readonly findingUpdatedAt?: string;
  readonly playbookId: string;
  readonly account: string;
  readonly region: string;
  readonly trigger: TriggerKind;
  readonly mode: RunMode;
  /** The coarse status: `started` until the first step record, `in-progress` after, then how the run ended. */
  readonly status: RunStatus;
  /** Where the run stands in its lifecycle (`run-state.ts`). */
  readonly state: RunState;
  /** Every state the run has moved to, oldest first: `claimed` and on. */
  readonly history: readonly RunTransition[];
  /** The envelope and record exactly as received (plain JSON), kept for audit. */
  readonly receivedEvent: unknown;
  /**
   * The normalized finding the run acted on, without its raw copy (that is
   * `receivedEvent`): what a resumed or rolled-back run rebuilds its context from.
   */
  readonly finding?: unknown;
  /**
   * Each step's target as the run resolved it, live, before anything else
   * read it (plain JSON, the pipeline's `RunTargets`): what the guards, the
   * plan, every step, a resume and a rollback act on — never re-derived from
   * the finding. Absent for a run of an exempt account (nothing was read there).
   */
  readonly targets?: unknown;
  /** 1 for the first attempt; a retry of a failed run is attempt 2, and so on. */
  readonly attempt?: number;
  /** The failed run this one retries. */
  readonly retryOf?: string;
  /**
   * The queue message that brought the run's event (an SQS message id). SQS
   * delivers one message to one consumer at a time, so a later receive of the
   * same message finding this run unfinished knows its worker gave it up.
   */
  readonly deliveryId?: string;
  /** The run this one rolls back. */
  readonly rollbackOf?: string;
  /** Why the playbook matched: its conditions that held, with the finding's values (what a timeline shows under "matched because"). */
  readonly matched?: readonly MatchedCondition[];
  /** How many times the run has been resumed after an in-progress step. */
  readonly resumes?: number;
  readonly steps: readonly StepRecord[];
  readonly outcome?: RunOutcome;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
  /** Starts at 1 and grows by one on every write: the optimistic-concurrency token. */
  readonly version: number;
}

/** The fields of a run that `listRuns()` returns: who, what, where and how it stands, without its steps, history or bodies. */
export const LISTED_RUN_FIELDS = ['runId', 'createdAt', 'updatedAt', 'playbookId', 'findingId', 'account', 'region', 'trigger', 'mode', 'status'] as const;

/** A run as a listing shows it (`listRuns()`); `getRun()` reads the whole record. */
export type ListedRun = Pick<RunRecord, (typeof LISTED_RUN_FIELDS)[number]>;

/** Which runs `listRuns()` returns. */
export interface RunQuery {
  /** Only runs created at or after this time (every run when absent). */
  readonly since?: Date;
}

/** What `startRun()` takes: the ledger sets status, state and history, steps, timestamps and version. */
/** One condition of a playbook's match that held, as the run records it. */
export interface MatchedCondition {
  readonly fact: string;
  readonly operator: string;
  readonly value: unknown;
  readonly factValue: unknown;
}

export type NewRun = Omit<RunRecord, 'status' | 'state' | 'history' | 'steps' | 'outcome' | 'createdAt' | 'updatedAt' | 'version'>;

/** The answer to `claim()`: either this run owns the key, or another run already does. */
export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly existingRunId: string };

/**
 * The answer to `reserveChange()`: either the resource may be changed (it
 * took a slot, or already held one within the window), or the scope's limit
 * is reached and these resources hold its slots.
 */
export type ChangeReservation =
  | {
      readonly allowed: true;
      /** Slots held within the window after the call, as far as this call saw (exact without concurrent callers). */
      readonly used: number;
      readonly limit: number;
      /** The resource already held a slot within the window, so none was taken. */
      readonly alreadyHeld: boolean;
    }
  | {
      readonly allowed: false;
      readonly used: number;
      readonly limit: number;
      /** The resources holding the slots, in slot order. */
      readonly holders: readonly string[];
    };
