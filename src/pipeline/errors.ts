import { RiposteError } from '../errors.js';

/** A resume or rollback names a run the ledger does not hold. */
export class RunUnknownError extends RiposteError {
  override readonly name: string = 'RunUnknownError';
  readonly code = 'RUN_UNKNOWN';
  constructor(runId: string, purpose: string) {
    super(`no run ${runId} in the ledger: cannot ${purpose}`, { context: { runId } });
  }
}

/** A recorded run names a playbook that is no longer loaded. */
export class PlaybookNotLoadedError extends RiposteError {
  override readonly name: string = 'PlaybookNotLoadedError';
  readonly code = 'PLAYBOOK_NOT_LOADED';
  constructor(playbookId: string, runId: string, purpose: string) {
    super(`run ${runId} belongs to playbook ${playbookId}, which is not loaded: cannot ${purpose}`, { context: { runId, playbook: playbookId } });
  }
}

/** A recorded run cannot be rolled back (still running, already rolled back, or a plan). */
export class RollbackRefusedError extends RiposteError {
  override readonly name: string = 'RollbackRefusedError';
  readonly code = 'ROLLBACK_REFUSED';
  constructor(runId: string, reason: string) {
    super(`run ${runId} cannot be rolled back: ${reason}`, { context: { runId } });
  }
}

/** A run record's stored finding cannot be read back (written by another version, or damaged). */
export class StoredFindingInvalidError extends RiposteError {
  override readonly name: string = 'StoredFindingInvalidError';
  readonly code = 'STORED_FINDING_INVALID';
  constructor(runId: string, field: string) {
    super(`run ${runId}: the stored finding has no valid ${field}`, { context: { runId, field } });
  }
}

/** Another run kept the resource leased longer than this run could wait: the delivery is handed back, to run once the other has ended. */
export class ResourceBusyError extends RiposteError {
  override readonly name: string = 'ResourceBusyError';
  readonly code = 'RESOURCE_BUSY';
  constructor(lease: string, runId: string, holder: string, waitedMs: number) {
    super(`run ${runId}: ${lease} is being changed by run ${holder === '' ? '(unknown)' : holder}; waited ${Math.round(waitedMs / 1000)} s, handing the delivery back to run once it has ended`, {
      context: { runId },
      retryable: true,
    });
  }
}

/** A step stayed in progress past its bound. */
export class StepTimedOutError extends RiposteError {
  override readonly name: string = 'StepTimedOutError';
  readonly code = 'STEP_TIMED_OUT';
  constructor(runId: string, action: string, index: number, detail: string, bound: string) {
    super(`step ${index + 1} (${action}) of run ${runId} is still in progress after ${bound}: ${detail}`, { context: { runId, step: action, stepIndex: index }, retryable: true });
  }
}

/** A resume names a run that is not part-way through its steps (never started them, or is undoing another run). */
export class RunNotResumableError extends RiposteError {
  override readonly name: string = 'RunNotResumableError';
  readonly code = 'RUN_NOT_RESUMABLE';
  constructor(runId: string, stage: string) {
    super(`run ${runId} is ${stage}: there is nothing to resume`, { context: { runId, stage } });
  }
}

/** A run record's stored targets cannot be read back (written before targets were recorded, or damaged): nothing is re-derived from the finding. */
export class StoredTargetsInvalidError extends RiposteError {
  override readonly name: string = 'StoredTargetsInvalidError';
  readonly code = 'STORED_TARGETS_INVALID';
  constructor(runId: string, field: string) {
    super(`run ${runId}: the stored targets have no valid ${field}, and a target is never re-derived from the finding: nothing changed`, { context: { runId, field } });
  }
}

/** A step of a run has no resolved target to act on (the run was refused, or its record holds none for the step). */
export class TargetNotResolvedError extends RiposteError {
  override readonly name: string = 'TargetNotResolvedError';
  readonly code = 'TARGET_NOT_RESOLVED';
  constructor(runId: string, stepIndex: number) {
    super(`run ${runId}: step ${stepIndex + 1} has no resolved target, and a target is never re-derived from the finding: nothing changed`, { context: { runId, stepIndex } });
  }
}

/** The account, region and instance an on-demand request names, as its refusals carry them. */
export interface OnDemandRequestContext {
  readonly account: string;
  readonly region: string;
  /** The instance's ARN. */
  readonly resource: string;
  readonly instanceId: string;
}

/**
 * An on-demand request names no playbook, and the matches of several API
 * playbooks accept it, with not exactly one of them marked the default
 * (`triggers.api: { default: true }`): which to run is the requester's
 * choice (name one with `playbook`) or the library's (mark one default),
 * never a guess. Nothing ran.
 */
export class OnDemandAmbiguousError extends RiposteError {
  override readonly name: string = 'OnDemandAmbiguousError';
  readonly code = 'ON_DEMAND_AMBIGUOUS';
  /** The playbooks whose matches accept the request, in the order they would have run. */
  readonly candidates: readonly string[];
  constructor(request: OnDemandRequestContext, candidates: readonly string[], defaults: readonly string[]) {
    const why =
      defaults.length === 0
        ? 'none of them is marked the default (triggers.api: { default: true })'
        : `${defaults.length} of them are marked the default (${defaults.join(', ')}), and only one may be`;
    super(
      `the request for ${request.instanceId} in account ${request.account}, ${request.region} names no playbook, and ${candidates.length} take it: ${candidates.join(', ')}; ${why}. Name one with "playbook"`,
      { context: { ...request, candidates } },
    );
    this.candidates = candidates;
  }
}

/**
 * No API playbook takes an on-demand request: the playbook it names refuses
 * it by its match (or takes no on-demand requests at all), or, with none
 * named, no API playbook's match accepts its account, region or instance.
 * The message says what each playbook taking on-demand requests requires.
 * Nothing ran.
 */
export class OnDemandRefusedError extends RiposteError {
  override readonly name: string = 'OnDemandRefusedError';
  readonly code = 'ON_DEMAND_REFUSED';
  /** The playbooks that take on-demand requests (`triggers.api`), none of which took this one. */
  readonly candidates: readonly string[];
  constructor(request: OnDemandRequestContext, message: string, candidates: readonly string[], named?: string) {
    super(message, { context: { ...request, ...(named === undefined ? {} : { playbook: named }), candidates } });
    this.candidates = candidates;
  }
}
