import { serializeError } from '../errors.js';
import { LedgerConflictError, RunAlreadyFinishedError, isTerminal } from '../ledger/index.js';
import { execute } from './execute.js';
import { guardChanges, guardRun, type GuardDecision } from './guard.js';
import { describePlan, plan } from './plan.js';
import { pause, record, runResult } from './record.js';
import { rollBack } from './rollback.js';
import type { ClaimedRun, EndingRun, ExecutingRun, GuardedRun, PlannedRun, Run, RunContext, RunIdentity } from './run-state.js';
import { now } from './step-record.js';
import { verify } from './verify.js';
import type { GuardCode, PlaybookRunResult } from './types.js';

/*
 * The run lifecycle, as one loop: each stage is a function from one state
 * to the next, until the run is recorded (or paused until a resume).
 *
 *   (resolve) claimed ──guard──▶ guarded ──plan──▶ planned ──limit──▶ executing ──▶ verifying ──▶ ending ──record──▶ ended
 *      │                                    │  (plan mode: ending)   │                      ▲
 *      └── exempt: ending (skipped)         └── limit: ending        └── long step: paused ─┴─ pause ──▶ ended (in progress)
 *   rollback run:  claimed ──▶ rolling-back ──▶ ending ──record──▶ ended
 *   resume:        paused (from the ledger) ──▶ execute ──▶ …
 *
 * A fresh run enters at `claimed` (after the idempotency claim and the
 * live resolution of its targets, which its first record holds), a resume
 * at `executing` or `verifying` (restored from the ledger, targets and
 * all), a rollback at `rolling-back` (with the targets of the run it undoes).
 */

/** What a guard's refusal ends the run with: skipped, and why. */
function refused(context: RunContext, decision: Extract<GuardDecision<object, GuardCode>, { verdict: 'stop' }>): EndingRun {
  return {
    stage: 'ending',
    context,
    end: {
      status: 'skipped',
      summary: decision.reason,
      notify: decision.notify ?? false,
      guard: { code: decision.code, reason: decision.reason },
      ...(decision.error === undefined ? {} : { error: decision.error }),
    },
  };
}

/** claimed → guarded, or skipped by an exemption. */
async function guard(run: ClaimedRun): Promise<GuardedRun | EndingRun> {
  const { context, playbook } = run;
  const decision = guardRun(context, playbook, now(context.services));
  if (decision.verdict === 'stop') return refused(context, decision);
  await context.writer.advance({ stage: 'guarded' });
  return { stage: 'guarded', context, playbook, carried: run.carried };
}

/** planned → executing; a plan-only run ends here, and a change limit reached skips the run. */
async function permit(run: PlannedRun): Promise<ExecutingRun | EndingRun> {
  const { context, playbook } = run;
  const { writer } = context;
  if (writer.record.mode === 'plan') {
    return { stage: 'ending', context, end: { status: 'succeeded', summary: `plan only, nothing changed: ${describePlan(run.plan)}`, notify: false } };
  }
  const decision = await guardChanges(context, playbook.playbook, run.plan, now(context.services));
  if (decision.verdict === 'stop') return refused(context, decision);
  // What an earlier attempt completed is part of this run's record (with its undo), and is not run again.
  for (const step of run.carried) await writer.append(step);
  await writer.advance({ stage: 'executing', step: 0 });
  return { stage: 'executing', context, plan: run.plan, results: new Map(run.carried.map((step) => [step.index, step])) };
}

/** Drives a run through its stages until it is recorded or paused. */
export async function drive(start: Run): Promise<PlaybookRunResult> {
  let run = start;
  for (;;) {
    switch (run.stage) {
      case 'claimed':
        run = await guard(run);
        break;
      case 'guarded':
        run = await plan(run);
        break;
      case 'planned':
        run = await permit(run);
        break;
      case 'executing':
        run = await execute(run);
        break;
      case 'verifying':
        run = await verify(run);
        break;
      case 'rolling-back':
        run = await rollBack(run);
        break;
      case 'paused':
        run = await pause(run);
        break;
      case 'ending':
        run = await record(run);
        break;
      case 'ended':
        return run.result;
    }
  }
}

/**
 * Drives a run, and answers for what the stages could not: a run the
 * pipeline itself cannot carry on (the ledger unreachable, the recorder's
 * clients broken) is recorded as failed where possible; losing a race to
 * another worker on the same run (a duplicate resume) is a duplicate.
 * Nothing is thrown: what went wrong is in the result, the record and the logs.
 */
export async function driveSafely(start: Exclude<Run, { stage: 'ended' }>): Promise<PlaybookRunResult> {
  const { context } = start;
  try {
    return await drive(start);
  } catch (error) {
    return failed(context, error);
  }
}

/** The result (and, where the ledger still answers, the record) of a run that failed outside any step. */
export async function failed(context: RunIdentity, error: unknown): Promise<PlaybookRunResult> {
  const { writer, logger, services } = context;
  const serialized = serializeError(error);
  if (error instanceof LedgerConflictError || error instanceof RunAlreadyFinishedError) {
    logger.warn('another worker is writing this run: leaving it to them', { error });
    const summary = error instanceof RunAlreadyFinishedError ? `another worker finished run ${writer.runId} (${error.current.status})` : `another worker is carrying on run ${writer.runId}`;
    return runResult(context, 'duplicate', summary, { error: serialized });
  }
  logger.error('run failed', { error });
  const existing = await services.ledger.getRun(writer.runId).catch(() => undefined);
  if (existing !== undefined && !isTerminal(existing.status)) {
    await services.ledger.finishRun(writer.runId, 'failed', { summary: serialized.message, error: serialized }, existing.version).catch(() => undefined);
  }
  return runResult(context, 'failed', `failed: ${serialized.message}`, { error: serialized });
}
