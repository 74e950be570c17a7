import { runStep, type ActionOutcome } from '../actions/index.js';
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

/**
 * The execute stage: runs the plan's steps in order, each step not finished yet.
 *
 * - A step finished before (carried from a failed attempt, or done before a
 *   pause) is not run again.
 * - A step whose plan failed is not run; nor is any step after a failed
 *   step, unless that step has `continueOnError`.
 * - A step that starts something long (an SSM command, snapshots) pauses
 *   the run: the same step runs again when the resume message comes back
 *   and picks up where it left off — at most `maxResumes` times.
 * - With less than 30 s of the caller's time left, the run pauses before
 *   the next step rather than be cut off in the middle of it.
 *
 * Each step's run record moves the ledger's state to the next step in the
 * same write; after the last, the run is `verifying`.
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

  for (const planned of plan.steps) {
    const { index, step } = planned;
    const previous = results.get(index);
    if (finished(previous)) {
      if (previous.status === 'failed' && !step.continueOnError) stoppedBy = previous.action;
      if (succeeded(previous)) outcomes.push(outcomeOf(previous));
      continue;
    }
    if (stoppedBy !== undefined) {
      await record(planned, stepRecord(services, { index, action: step.action }, 'run', 'skipped', `not run: step ${stoppedBy} failed before it`));
      continue;
    }
    if (planned.record.status === 'failed') {
      await record(planned, stepRecord(services, { index, action: step.action }, 'run', 'skipped', `not run: its plan failed (${planned.record.error?.message ?? planned.record.summary})`));
      if (!step.continueOnError) stoppedBy = step.action;
      continue;
    }
    if (remainingTimeMs !== undefined && remainingTimeMs() < TIME_MARGIN_MS) {
      logger.info('little time left: saving the run to resume it', { step: step.action, index });
      return { stage: 'paused', context, step: index, delaySeconds: 1, detail: `stopped before step ${index + 1} (${step.action}) with ${Math.round(remainingTimeMs() / 1000)} s left` };
    }

    const stepLog = logger.child({ step: step.action, index });
    try {
      const actionContext = {
        ...stepContext(services, context, index, { runId: writer.runId, correlationId: writer.record.correlationId, playbookId: context.playbookId }),
        previousOutcomes: [...outcomes],
      };
      const outcome = await runStep({ registry: services.registry, action: step.action }, actionContext, step.params);
      if (outcome.inProgress !== undefined) {
        if (context.resumes >= services.settings.maxResumes) {
          throw new StepTimedOutError(writer.runId, step.action, index, outcome.inProgress.detail, `${context.resumes} resumes`);
        }
        const { detail, checkAfterSeconds } = outcome.inProgress;
        await record(planned, stepRecord(services, { index, action: step.action }, 'run', 'in-progress', outcome.summary, { changes: outcome.changes, inProgress: outcome.inProgress }), {
          stage: 'paused',
          step: index,
          resumes: context.resumes + 1,
          resumeAfterSeconds: checkAfterSeconds,
        });
        stepLog.info('step in progress: run saved to resume', { detail, checkAfterSeconds });
        return { stage: 'paused', context, step: index, delaySeconds: checkAfterSeconds, detail };
      }
      await record(
        planned,
        stepRecord(services, { index, action: step.action }, 'run', outcome.changed ? 'changed' : 'compliant', outcome.summary, {
          changes: outcome.changes,
          ...(outcome.undo === undefined ? {} : { undo: outcome.undo }),
          ...evidenceOf(outcome),
        }),
      );
      outcomes.push(outcome);
      stepLog.info(outcome.changed ? 'step changed' : 'step found nothing to change', { summary: outcome.summary });
    } catch (error) {
      await record(planned, stepRecord(services, { index, action: step.action }, 'run', 'failed', serializeError(error).message, { error: serializeError(error) }));
      stepLog.error('step failed', { error, continueOnError: step.continueOnError });
      if (!step.continueOnError) stoppedBy = step.action;
    }
  }

  // Steps carried or finished before a pause write nothing now: the last write may not have moved the run on.
  if (writer.record.state.stage !== 'verifying') await writer.advance({ stage: 'verifying' });
  return { stage: 'verifying', context, plan, results };
}
