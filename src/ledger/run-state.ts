/**
 * The stages of a run's lifecycle, in the order a run meets them. A run of
 * a playbook on a finding is `claimed` (it owns the finding's idempotency
 * key), `guarded` (no exemption or limit stops it), `planned` (every step
 * read and described), `executing` one step after another (or `paused`
 * while a long step goes on, until a resume message brings it back),
 * `verifying` (every change read back), and ends `succeeded`, `failed` or
 * `skipped` once it is recorded. A rollback is a run of its own that goes
 * `claimed` → `rolling-back` → an end; the run it undoes ends `rolled-back`.
 */
export const RUN_STAGES = ['claimed', 'guarded', 'planned', 'executing', 'paused', 'verifying', 'rolling-back', 'succeeded', 'failed', 'skipped', 'rolled-back'] as const;
export type RunStage = (typeof RUN_STAGES)[number];

/** Where a run stands: its stage, and for the stages that walk the steps, which step. */
export type RunState =
  | { readonly stage: 'claimed' }
  | { readonly stage: 'guarded' }
  | { readonly stage: 'planned' }
  /** Step `step` (0-based) is the next to run, or running. */
  | { readonly stage: 'executing'; readonly step: number }
  /** Step `step` is still going on outside Riposte (an SSM command, snapshots): look again after `resumeAfterSeconds`; `resumes` messages have been scheduled so far. */
  | { readonly stage: 'paused'; readonly step: number; readonly resumes: number; readonly resumeAfterSeconds: number }
  | { readonly stage: 'verifying' }
  /** Undoing the changes of run `of`. */
  | { readonly stage: 'rolling-back'; readonly of: string }
  | { readonly stage: 'succeeded' | 'failed' | 'skipped' | 'rolled-back' };

/** One entry of a run's history: the state it moved to, and when. */
export interface RunTransition {
  readonly state: RunState;
  /** ISO 8601. */
  readonly at: string;
}

/**
 * The moves between stages that have not ended. Ending is the other kind
 * of move: any stage that has not ended may end (`succeeded`, `failed` or
 * `skipped` — a run can fail anywhere, the ledger unreachable or its Lambda
 * timed out), and a run that ended `succeeded` or `failed` may later end
 * `rolled-back` when a rollback run undoes it.
 */
const NEXT: Readonly<Record<RunStage, readonly RunStage[]>> = {
  claimed: ['guarded', 'rolling-back'],
  guarded: ['planned'],
  planned: ['executing'],
  // Step after step; a long step pauses the run until a resume message brings it back.
  executing: ['executing', 'paused', 'verifying'],
  // A resumed run moves on with the record of the step it resumed, not with a write of its own before it:
  // two workers racing on one run are then told apart by the version check on that record.
  paused: ['executing', 'paused', 'verifying'],
  verifying: [],
  'rolling-back': [],
  succeeded: [],
  failed: [],
  skipped: [],
  'rolled-back': [],
};

const ENDS: ReadonlySet<RunStage> = new Set<RunStage>(['succeeded', 'failed', 'skipped', 'rolled-back']);

/** Whether a run in this stage has ended. */
export function hasEnded(stage: RunStage): boolean {
  return ENDS.has(stage);
}

/** Whether the lifecycle lets a run move from `from` to `to`. */
export function canMove(from: RunStage, to: RunStage): boolean {
  if (to === 'rolled-back') return !hasEnded(from) || from === 'succeeded' || from === 'failed';
  if (hasEnded(to)) return !hasEnded(from);
  return NEXT[from].includes(to);
}

/** The stages a run may be in to move to `to`: what a store's conditional write tests. */
export function stagesBefore(to: RunStage): RunStage[] {
  return RUN_STAGES.filter((from) => canMove(from, to));
}
