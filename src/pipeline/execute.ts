import { runStep, type ActionContext, type ActionOutcome } from '../actions/index.js';
import { withStepReadMemo } from '../aws/index.js';
import { serializeError } from '../errors.js';
import type { RunState, StepRecord } from '../ledger/index.js';
import { StepTimedOutError } from './errors.js';
import type { ExecutingRun, PausedRun, PlannedStep, VerifyingRun } from './run-state.js';
import { stepRecord, succeeded } from './step-record.js';
import { stepContext } from './targets.js';

/** Stop starting steps when the caller has less than this left, and resume instead. */
const TIME_MARGIN_MS = 30_000;

/** Evidence digests an outcome's changes name (`{ key, sha256 }` values). */
function evidenceOf(outcome: ActionOutcome): Pick<StepRecord, 'evidence'> {
  const evidence = outcome.changes
    .map((change) => change.to)
    .filter(
      (to): to is { key: string; sha256: string } =>
        typeof to === 'object' && to !== null && typeof (to as { key?: unknown }).key === 'string' && typeof (to as { sha256?: unknown }).sha256 === 'string',
    )
    .map(({ key, sha256 }) => ({ key, sha256 }));
  return evidence.length === 0 ? {} : { evidence };
}

/** What a notification step reports of the steps before it. */
const outcomeOf = (record: StepRecord): ActionOutcome => ({ action: record.action, resource: '', changed: record.status === 'changed', summary: record.summary, changes: record.changes });

/** A step that finished in this run or an earlier attempt (changed, compliant, skipped, or failed and moved on): not run again. */
const finished = (record: StepRecord | undefined): record is StepRecord => record !== undefined && record.status !== 'in-progress';

/** The plan's steps in the groups they run in: a step marked `concurrent` joins the group of the step before it. */
export function stepGroups(steps: readonly PlannedStep[]): PlannedStep[][] {
  const groups: PlannedStep[][] = [];
  for (const planned of steps) {
    const current = groups.at(-1);
    if (planned.step.concurrent && current !== undefined) current.push(planned);
    else groups.push([planned]);
  }
  return groups;
}

/** How one step of a group ended in this invocation. */
type StepEnd =
  | { readonly kind: 'done'; readonly planned: PlannedStep; readonly outcome: ActionOutcome }
  | { readonly kind: 'in-progress'; readonly planned: PlannedStep; readonly detail: string; readonly checkAfterSeconds: number }
  | { readonly kind: 'failed'; readonly planned: PlannedStep };

/**
 * The execute stage: runs the plan's steps, group after group, each step
 * not finished yet. A group is one step, or several the playbook marks
 * `concurrent`: those start together and the next group waits for them all
 * (independent work, such as isolating an instance beside collecting its
 * evidence, does not queue behind itself).
 *
 * - A step finished before (carried from a failed attempt, or done before a
 *   pause) is not run again.
 * - A step whose plan failed is not run; nor is any step of a later group
 *   after a failed step, unless that step has `continueOnError`. Steps of
 *   the failed step's own group started with it, and run to their end.
 * - A step that starts something long (an SSM command, snapshots) pauses
 *   the run once its group has ended: the same step runs again when the
 *   resume message comes back and picks up where it left off — at most
 *   `maxResumes` times. Its group's other steps are done, and not run again.
 * - With less than 30 s of the caller's time left, the run pauses before
 *   the next group rather than be cut off in the middle of it.
 *
 * Each step's run record is written as the step ends; the group's last
 * moves the ledger's state on (to the next group, a pause, or `verifying`)
 * in the same write. The writer puts the group's writes in one order.
 */
export async function execute(run: ExecutingRun): Promise<VerifyingRun | PausedRun> {
  const { context, plan } = run;
  const { services, writer, logger, remainingTimeMs } = context;
  const results = new Map(run.results);
  const outcomes: ActionOutcome[] = [];
  const after = (index: number): RunState => (index + 1 < plan.steps.length ? { stage: 'executing', step: index + 1 } : { stage: 'verifying' });
  let stoppedBy: string | undefined;

  const record = async (planned: PlannedStep, entry: StepRecord, next: RunState = after(planned.index)): Promise<void> => {
    await writer.append(entry, next);
    results.set(planned.index, entry);
  };

  /**
   * A retry's step that finds its change already made, where the attempt it
   * retries had planned that change (and was killed before recording it):
   * the change is this work's, recorded with the undo its plan gives.
   */
  const madeUnrecorded = (planned: PlannedStep, actionContext: ActionContext, outcome: ActionOutcome): ActionOutcome | undefined => {
    const earlier = context.earlierPlans?.get(planned.index);
    if (outcome.changed || outcome.undo !== undefined || earlier?.status !== 'changed' || earlier.changes.length === 0) return undefined;
    const undo = planned.action.behaviour.undoOfPlanned?.(actionContext, earlier.changes);
    if (undo === undefined) return undefined;
    const by = context.earlierRunIds?.[0] ?? 'an earlier attempt';
    return { ...outcome, changed: true, changes: earlier.changes, undo, summary: `${outcome.summary} (changed by ${by}, which did not record it: its undo is kept for rollback)` };
  };

  /** Runs one step of a group; its record moves the run to `next()` as it is written (asked then: the group's last step to end moves it on). */
  const runOne = async (planned: PlannedStep, next: (end: StepEnd) => RunState, previousOutcomes: readonly ActionOutcome[]): Promise<StepEnd> => {
    const { index, step } = planned;
    const stepLog = logger.child({ step: step.action, index });
    const entry = (status: StepRecord['status'], summary: string, extra: Partial<StepRecord> = {}): StepRecord => stepRecord(services, { index, action: step.action }, 'run', status, summary, extra);
    try {
      const actionContext = {
        ...stepContext(
          services,
          context,
          index,
          { runId: writer.runId, correlationId: writer.record.correlationId, playbookId: context.playbookId, earlierRunIds: context.earlierRunIds ?? [] },
          plan.playbookSteps,
        ),
        previousOutcomes: [...previousOutcomes],
      };
      const outcome = await runStep({ registry: services.registry, action: step.action }, actionContext, step.params);
      if (outcome.inProgress !== undefined) {
        if (context.resumes >= services.settings.maxResumes) {
          throw new StepTimedOutError(writer.runId, step.action, index, outcome.inProgress.detail, `${context.resumes} resumes`);
        }
        const { detail, checkAfterSeconds } = outcome.inProgress;
        const end: StepEnd = { kind: 'in-progress', planned, detail, checkAfterSeconds };
        await record(planned, entry('in-progress', outcome.summary, { changes: outcome.changes, inProgress: outcome.inProgress }), next(end));
        stepLog.info('step in progress: run saved to resume', { detail, checkAfterSeconds });
        return end;
      }
      const made = madeUnrecorded(planned, actionContext, outcome);
      if (made !== undefined) stepLog.info('an earlier attempt made this change without recording it: its undo is kept', { retryOf: context.earlierRunIds?.[0] });
      const done = made ?? outcome;
      const end: StepEnd = { kind: 'done', planned, outcome: done };
      await record(
        planned,
        entry(done.changed ? 'changed' : 'compliant', done.summary, { changes: done.changes, ...(done.undo === undefined ? {} : { undo: done.undo }), ...evidenceOf(done) }),
        next(end),
      );
      stepLog.info(done.changed ? 'step changed' : 'step found nothing to change', { summary: done.summary });
      return end;
    } catch (error) {
      const end: StepEnd = { kind: 'failed', planned };
      await record(planned, entry('failed', serializeError(error).message, { error: serializeError(error) }), next(end));
      stepLog.error('step failed', { error, continueOnError: step.continueOnError });
      return end;
    }
  };

  for (const group of stepGroups(plan.steps)) {
    const last = (group.at(-1) as PlannedStep).index;
    // A step not run moves the run past its group when alone in it; beside others, the group's last write does.
    const pastSkip: RunState = group.length === 1 ? after(last) : { stage: 'executing', step: (group[0] as PlannedStep).index };
    const toRun: PlannedStep[] = [];
    let failedHere: string | undefined;
    for (const planned of group) {
      const { index, step } = planned;
      const previous = results.get(index);
      if (finished(previous)) {
        if (previous.status === 'failed' && !step.continueOnError) failedHere ??= previous.action;
        if (succeeded(previous)) outcomes.push(outcomeOf(previous));
        continue;
      }
      if (stoppedBy !== undefined) {
        await record(planned, stepRecord(services, { index, action: step.action }, 'run', 'skipped', `not run: step ${stoppedBy} failed before it`), pastSkip);
        continue;
      }
      if (planned.record.status === 'failed') {
        await record(
          planned,
          stepRecord(services, { index, action: step.action }, 'run', 'skipped', `not run: its plan failed (${planned.record.error?.message ?? planned.record.summary})`),
          pastSkip,
        );
        if (!step.continueOnError) failedHere ??= step.action;
        continue;
      }
      toRun.push(planned);
    }
    if (toRun.length > 0) {
      const first = toRun[0] as PlannedStep;
      if (remainingTimeMs !== undefined && remainingTimeMs() < TIME_MARGIN_MS) {
        logger.info('little time left: saving the run to resume it', { step: first.step.action, index: first.index });
        return {
          stage: 'paused',
          context,
          step: first.index,
          delaySeconds: 1,
          detail: `stopped before step ${first.index + 1} (${first.step.action}) with ${Math.round(remainingTimeMs() / 1000)} s left`,
        };
      }
      // The group's last step to end moves the run on: to a pause if any step of the group is still going on, else past the group.
      let running = toRun.length;
      let pausedBy: Extract<StepEnd, { kind: 'in-progress' }> | undefined;
      const next = (end: StepEnd): RunState => {
        running -= 1;
        if (end.kind === 'in-progress' && (pausedBy === undefined || end.planned.index < pausedBy.planned.index)) pausedBy = end;
        if (running > 0) return { stage: 'executing', step: first.index };
        return pausedBy === undefined ? after(last) : { stage: 'paused', step: pausedBy.planned.index, resumes: context.resumes + 1, resumeAfterSeconds: pausedBy.checkAfterSeconds };
      };
      const before = [...outcomes];
      const ends = await withStepReadMemo(toRun.map((planned) => () => runOne(planned, next, before)));
      for (const end of ends) {
        if (end.kind === 'done') outcomes.push(end.outcome);
        if (end.kind === 'failed' && !end.planned.step.continueOnError) failedHere ??= end.planned.step.action;
      }
      if (pausedBy !== undefined) return { stage: 'paused', context, step: pausedBy.planned.index, delaySeconds: pausedBy.checkAfterSeconds, detail: pausedBy.detail };
    }
    stoppedBy ??= failedHere;
  }

  // Steps carried or finished before a pause write nothing now: the last write may not have moved the run on.
  if (writer.record.state.stage !== 'verifying') await writer.advance({ stage: 'verifying' });
  return { stage: 'verifying', context, plan, results };
}
