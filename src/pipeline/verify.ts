import { verifyStep } from '../actions/index.js';
import { withRunReadMemo } from '../aws/index.js';
import { serializeError } from '../errors.js';
import type { StepRecord } from '../ledger/index.js';
import type { EndingRun, VerifyingRun } from './run-state.js';
import { stepRecord, succeeded } from './step-record.js';
import { stepContext } from './targets.js';

/**
 * The verify stage: every step that did its work is read back — does its
 * resource comply now? A finding is fixed only when every step ran (or
 * found nothing to do) and every one verified: then RESOLVED; otherwise
 * NOTIFIED, naming what failed, was skipped or did not verify.
 */
export async function verify(run: VerifyingRun): Promise<EndingRun> {
  const { context, plan, results } = run;
  const { services, writer, logger } = context;
  // Verifications only read: made at once, recorded in the playbook's order. They read the state every
  // change left, one answer per question (a window of their own: src/aws/run-read-memo.ts).
  const toVerify = plan.steps.filter((planned) => succeeded(results.get(planned.index)));
  const records = await withRunReadMemo(() =>
    Promise.all(
      toVerify.map(async ({ index, step }): Promise<StepRecord> => {
        // A step carried from an earlier attempt did its work under that attempt's run id (evidence keys, snapshot tags): verify that work.
        const runId = results.get(index)?.carriedFromRunId ?? writer.runId;
        try {
          const actionContext = stepContext(
            services,
            context,
            index,
            {
              runId,
              correlationId: writer.record.correlationId,
              playbookId: context.playbookId,
              earlierRunIds: context.earlierRunIds ?? [],
            },
            plan.playbookSteps,
          );
          const verification = await verifyStep({ registry: services.registry, action: step.action }, actionContext, step.params);
          if (!verification.compliant) logger.warn('verification failed', { step: step.action, index, summary: verification.summary });
          return stepRecord(services, { index, action: step.action }, 'verify', verification.compliant ? 'compliant' : 'failed', verification.summary);
        } catch (error) {
          logger.error('verification could not read the state back', { step: step.action, index, error });
          return stepRecord(services, { index, action: step.action }, 'verify', 'failed', serializeError(error).message, { error: serializeError(error) });
        }
      }),
    ),
  );
  const verified = new Map<number, StepRecord>();
  for (const record of records) {
    await writer.append(record);
    verified.set(record.index, record);
  }

  const problems: string[] = [];
  for (const planned of plan.steps) {
    const result = results.get(planned.index);
    if (result === undefined || result.status === 'failed' || result.status === 'skipped') problems.push(`${planned.step.action} ${result?.status ?? 'not run'}`);
    else if (verified.get(planned.index)?.status !== 'compliant') problems.push(`${planned.step.action} not verified`);
  }
  if (problems.length > 0) {
    return { stage: 'ending', context, end: { status: 'failed', summary: `not fixed: ${problems.join('; ')}`, workflow: 'NOTIFIED', notify: true } };
  }
  const changed = [...results.values()].filter((result) => result.status === 'changed' && result.carriedFromRunId === undefined).length;
  if (![...results.values()].some((result) => result.status === 'changed')) {
    // Every target already was as the playbook leaves it: what the finding reports, AWS no longer shows.
    const reported = context.finding.compliance?.status === 'FAILED' ? 'a failed check' : 'a problem';
    context.logger.info('stale finding: nothing to change', { reported });
    return {
      stage: 'ending',
      context,
      end: {
        status: 'succeeded',
        summary: `stale: the finding reports ${reported} that AWS no longer shows; every target already complies, nothing changed, every step verified`,
        workflow: 'RESOLVED',
        notify: true,
      },
    };
  }
  return {
    stage: 'ending',
    context,
    end: { status: 'succeeded', summary: `fixed and verified: ${changed} step${changed === 1 ? '' : 's'} changed something, every step verified`, workflow: 'RESOLVED', notify: true },
  };
}
