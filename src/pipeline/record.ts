import { runRecordStatus, summarizeRun } from './record/index.js';
import type { RunSummary } from './record/index.js';
import type { EndedRun, EndingRun, PausedRun, RunContext, RunIdentity } from './run-state.js';
import { now } from './step-record.js';
import type { PlaybookRunResult } from './types.js';

/** The run as the caller gets it back: what happened in this invocation. */
export function runResult(context: RunIdentity, status: PlaybookRunResult['status'], summary: string, extra: Partial<PlaybookRunResult> = {}): PlaybookRunResult {
  return {
    playbookId: context.playbookId,
    runId: context.writer.runId,
    status,
    mode: context.writer.record.mode,
    modeReason: context.modeReason,
    matched: context.matched,
    summary,
    steps: context.writer.appended,
    ...extra,
  };
}

function summaryOf(context: RunContext, status: string, summary: string, workflow: 'RESOLVED' | 'NOTIFIED' | undefined): RunSummary {
  const { record } = context.writer;
  return summarizeRun(
    context.finding,
    record.steps,
    {
      runId: record.runId,
      correlationId: record.correlationId,
      playbookId: context.playbookId,
      ...(context.playbookTitle === undefined ? {} : { playbookTitle: context.playbookTitle }),
      trigger: record.trigger,
      mode: record.mode,
      status,
      summary,
      ...(workflow === undefined ? {} : { workflowStatus: workflow }),
    },
    now(context.services).toISOString(),
  );
}

/**
 * The record stage: how a run ended, written down everywhere — the note and
 * workflow status on the finding, the SNS message, the result event (each
 * attempted on its own: one unreachable topic never hides the others), and
 * last the run's own record, which ends it. A rollback run that undid
 * everything also ends the run it undid, as `rolled-back`.
 */
export async function record(run: EndingRun): Promise<EndedRun> {
  const { context, end } = run;
  const { services, writer, logger } = context;
  const recording = await services.recorder.record(context.finding, summaryOf(context, end.status, end.summary, end.workflow), {
    ...(end.workflow === undefined ? {} : { workflow: end.workflow }),
    notify: end.notify,
  });
  for (const [kind, item] of Object.entries(recording)) {
    if (item.status === 'failed') logger.error(`recording the run failed: ${kind}`, { error: item.error, ...(item.retry === undefined ? {} : { retryInSeconds: item.retry.delaySeconds }) });
  }
  // Fixed and verified is the run's status; whether the finding says so is this. The workflow is claimed only once Security Hub took it.
  const findingRecord = runRecordStatus(recording.note, end.workflow, now(services).toISOString());
  const workflow = findingRecord.securityHub === 'done' || findingRecord.securityHub === 'skipped' ? end.workflow : undefined;
  await writer.finish(end.status, {
    summary: end.summary,
    ...(workflow === undefined ? {} : { workflowStatus: workflow }),
    ...(end.error === undefined ? {} : { error: end.error }),
    details: {
      recording,
      record: findingRecord,
      ...(end.guard === undefined ? {} : { guard: end.guard }),
      ...(end.rollbackOf === undefined ? {} : { rollbackOf: end.rollbackOf.runId }),
    },
  });
  if (end.rollbackOf !== undefined && end.status === 'succeeded') {
    const original = end.rollbackOf;
    await services.ledger.finishRun(original.runId, 'rolled-back', { ...(original.outcome ?? { summary: '' }), summary: `rolled back by run ${writer.runId}` }, original.version);
  }
  logger.info(`${end.rollbackOf === undefined ? 'run' : 'rollback'} ${end.status}`, { summary: end.summary, workflowStatus: end.workflow, findingRecord: findingRecord.securityHub });
  return {
    stage: 'ended',
    result: runResult(context, end.status, end.summary, {
      ...(workflow === undefined ? {} : { workflowStatus: workflow }),
      record: findingRecord,
      ...(end.guard === undefined ? {} : { guard: end.guard }),
      ...(end.error === undefined ? {} : { error: end.error }),
      recording,
    }),
  };
}

/**
 * A paused run, written down: saved as `paused` at its step, and a resume
 * message scheduled (an SQS message with a delay) that brings it back.
 */
export async function pause(run: PausedRun): Promise<EndedRun> {
  const { context, step, delaySeconds, detail } = run;
  const { services, writer } = context;
  const resumes = context.resumes + 1;
  // A step in progress moved the run to `paused` with its record; a pause for lack of time writes it now.
  const saved = writer.record.state;
  if (saved.stage !== 'paused' || saved.resumes !== resumes) await writer.advance({ stage: 'paused', step, resumes, resumeAfterSeconds: delaySeconds });
  await services.resumeQueue.schedule({ kind: 'riposte.resume', runId: writer.runId, resumes, correlationId: writer.record.correlationId }, delaySeconds);
  return { stage: 'ended', result: runResult(context, 'in-progress', `in progress: ${detail}; resumes in ${delaySeconds} s`, { resume: { delaySeconds } }) };
}
