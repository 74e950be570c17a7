import type { ConditionOutcome } from '../engine/index.js';
import type { SerializedError } from '../errors.js';
import type { RunRecord, StepRecord } from '../ledger/index.js';
import type { RunLogger } from '../log/index.js';
import type { ActionDefinition } from '../actions/index.js';
import type { Finding, Resource } from '../intake/index.js';
import type { RunTargets } from './targets.js';
import type { CompiledPlaybook, PlaybookStep } from '../playbooks/index.js';
import type { RunWriter } from './run-writer.js';
import type { GuardCode, PipelineServices, PlaybookRunResult } from './types.js';

/*
 * A run as the stages pass it along. Each stage is a function from one of
 * these states to the next (`machine.ts` drives them); each state carries
 * exactly what the stages before it produced, so a stage cannot use what
 * does not exist yet (no plan before `planned`, no results before
 * `executing`). The ledger keeps the same lifecycle as the run's stored
 * state and history (`src/ledger/run-state.ts`): the writer moves both.
 */

/** One step of a plan: what it acts on, and what it would do there. */
export interface PlannedStep {
  /** The step's position in the playbook. */
  readonly index: number;
  /** The playbook's step: action name, parameters, `continueOnError`. */
  readonly step: PlaybookStep;
  readonly action: ActionDefinition;
  /** The resource the step acts on, as the run resolved it live (the account, for account settings). */
  readonly target: Resource;
  /** The step's plan record: `changed` (would change something, listed in `changes`), `compliant` (nothing to do), or `failed` (could not be planned: it will not run). */
  readonly record: StepRecord;
}

/** What a run will do, step by step, and why its playbook matched: what a dry run prints, and what `execute` runs. */
export interface Plan {
  readonly playbookId: string;
  /** The conditions that made the playbook match, with the values they saw. */
  readonly matched: readonly ConditionOutcome[];
  readonly steps: readonly PlannedStep[];
  /** Every step of the playbook in its order, planned or not: where each step stands among the others (ActionContext.order). */
  readonly playbookSteps: readonly PlaybookStep[];
  /** Whether a step that changes resources would change something: what takes a change-limit slot. */
  readonly changesResources: boolean;
}

/** What every stage of one run of one playbook on one finding works with. */
export interface RunContext {
  readonly services: PipelineServices;
  readonly finding: Finding;
  /**
   * Each step's target, resolved once, live, when the run was claimed (a
   * resume or rollback reads them back from the record). `undefined` only
   * for a run of an exempt account: nothing was read there.
   */
  readonly targets: RunTargets | undefined;
  readonly playbookId: string;
  /** For notes and messages; absent when a rollback runs without its playbook loaded. */
  readonly playbookTitle?: string;
  /** Writes the run's record, version after version. */
  readonly writer: RunWriter;
  readonly logger: RunLogger;
  /** The conditions that made the playbook match, with the values they saw (empty for a resumed or rollback run). */
  readonly matched: readonly ConditionOutcome[];
  /** Why the run has its mode: the trigger, the deployment, the playbook. */
  readonly modeReason: string;
  /** Milliseconds the caller has left (a Lambda's remaining time). */
  readonly remainingTimeMs?: () => number;
  /** How many resume messages this run had scheduled before this invocation. */
  readonly resumes: number;
  /** The runs this one retries, newest first (see ActionContext.earlierRunIds). */
  readonly earlierRunIds?: readonly string[];
  /** The plan records of the run this one retries, by step index: what it was about to change (see ActionBehaviour.undoOfPlanned). */
  readonly earlierPlans?: ReadonlyMap<number, StepRecord>;
}

/** What a run's result and its failure record need of it: who it is, and how to write to it. */
export type RunIdentity = Pick<RunContext, 'services' | 'writer' | 'logger' | 'playbookId' | 'matched' | 'modeReason'>;

/** The run owns its finding's idempotency key and has a record holding its resolved targets: nothing has been changed yet. */
export interface ClaimedRun {
  readonly stage: 'claimed';
  readonly context: RunContext;
  readonly playbook: CompiledPlaybook;
  /** Steps an earlier, failed attempt completed: carried into this run instead of being repeated. */
  readonly carried: readonly StepRecord[];
}

/** No exemption stops the run. */
export interface GuardedRun {
  readonly stage: 'guarded';
  readonly context: RunContext;
  readonly playbook: CompiledPlaybook;
  readonly carried: readonly StepRecord[];
}

/** Every step is read and described: the plan is the value the steps run from. */
export interface PlannedRun {
  readonly stage: 'planned';
  readonly context: RunContext;
  readonly playbook: CompiledPlaybook;
  readonly plan: Plan;
  readonly carried: readonly StepRecord[];
}

/** Steps run in order, each one not finished yet; `results` holds the latest run record of each step so far (carried, or from before a pause). */
export interface ExecutingRun {
  readonly stage: 'executing';
  readonly context: RunContext;
  readonly plan: Plan;
  readonly results: ReadonlyMap<number, StepRecord>;
}

/** A step goes on outside Riposte (an SSM command, snapshots): the run is saved, and a resume message brings it back. */
export interface PausedRun {
  readonly stage: 'paused';
  readonly context: RunContext;
  readonly step: number;
  readonly delaySeconds: number;
  readonly detail: string;
}

/** Every step has run (or was skipped): each change is read back. */
export interface VerifyingRun {
  readonly stage: 'verifying';
  readonly context: RunContext;
  readonly plan: Plan;
  readonly results: ReadonlyMap<number, StepRecord>;
}

/** A run of its own that undoes run `original`'s changes, last step first. */
export interface RollingBackRun {
  readonly stage: 'rolling-back';
  readonly context: RunContext;
  readonly original: RunRecord;
}

/** How a run ends, decided by a stage: what the record stage writes down everywhere. */
export interface RunEnd {
  readonly status: 'succeeded' | 'failed' | 'skipped';
  /** One line: what happened. */
  readonly summary: string;
  /** The workflow status to set on the finding: only when the run changed something or failed to. */
  readonly workflow?: 'RESOLVED' | 'NOTIFIED';
  /** Whether the end is worth an SNS message (changes, failures, a tripped limit — not a plan, not an exemption). */
  readonly notify: boolean;
  /** The guard that stopped the run, if one did. */
  readonly guard?: { readonly code: GuardCode; readonly reason: string };
  readonly error?: SerializedError;
  /** For a rollback run: the run it undid, which becomes `rolled-back` once every undo succeeded. */
  readonly rollbackOf?: RunRecord;
}

/** Decided how it ends; not yet recorded. */
export interface EndingRun {
  readonly stage: 'ending';
  readonly context: RunContext;
  readonly end: RunEnd;
}

/** Done with, for this invocation: recorded, or paused until a resume. */
export interface EndedRun {
  readonly stage: 'ended';
  readonly result: PlaybookRunResult;
}

export type Run = ClaimedRun | GuardedRun | PlannedRun | ExecutingRun | PausedRun | VerifyingRun | RollingBackRun | EndingRun | EndedRun;
