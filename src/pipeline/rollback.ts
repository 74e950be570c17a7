import { rollbackStep } from '../actions/index.js';
import { serializeError } from '../errors.js';
import type { EndingRun, RollingBackRun } from './run-state.js';
import { stepRecord } from './step-record.js';
import { stepContext } from './targets.js';

/**
 * The rolling-back stage of a rollback run: takes back each reversible
 * change run `original` recorded, from the `undo` it kept, last step first.
 * Step order, not the order the records were written: the steps of one
 * group ended in whatever order AWS answered, while the playbook's order
 * within the group says what must be undone before what (the quarantine is
 * lifted before the instance returns to its Auto Scaling group and target
 * groups, which list before the isolation). Groups run one after another,
 * so across groups this is newest first as well.
 * One undo failing does not stop the others; the rollback succeeds only
 * when every undo did. Either way the finding is reopened (NOTIFIED).
 */
export async function rollBack(run: RollingBackRun): Promise<EndingRun> {
  const { context, original } = run;
  const { services, writer, logger } = context;
  const changes = original.steps.filter((step) => step.phase === 'run' && step.status === 'changed' && step.undo !== undefined).sort((a, b) => b.index - a.index);
  let failed = 0;
  let rolledBack = 0;
  for (const step of changes) {
    try {
      // The step's target as the original run resolved it (its record holds it): the undo acts there, not on anything the finding names.
      const actionContext = stepContext(services, context, step.index, {
        runId: writer.runId,
        correlationId: writer.record.correlationId,
        playbookId: original.playbookId,
      });
      const outcome = await rollbackStep({ registry: services.registry, action: step.action }, actionContext, step.undo);
      await writer.append(stepRecord(services, step, 'rollback', outcome.changed ? 'changed' : 'compliant', outcome.summary, { changes: outcome.changes }));
      rolledBack += 1;
      logger.info('step rolled back', { step: step.action, index: step.index, summary: outcome.summary });
    } catch (error) {
      failed += 1;
      await writer.append(stepRecord(services, step, 'rollback', 'failed', serializeError(error).message, { error: serializeError(error) }));
      logger.error('rolling back a step failed', { step: step.action, index: step.index, error });
    }
  }
  const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  const summary =
    failed === 0 ? `rolled back run ${original.runId}: ${plural(rolledBack, 'change')} undone` : `rollback of run ${original.runId} incomplete: ${plural(failed, 'undo')} failed, ${rolledBack} done`;
  // The fix is taken back, so the finding is open again: NOTIFIED (someone asked for the rollback and is told), never left RESOLVED.
  return { stage: 'ending', context, end: { status: failed === 0 ? 'succeeded' : 'failed', summary, notify: true, rollbackOf: original, workflow: 'NOTIFIED' } };
}
