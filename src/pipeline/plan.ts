import { planStep, type ActionDefinition } from '../actions/index.js';
import { serializeError } from '../errors.js';
import type { StepRecord } from '../ledger/index.js';
import type { CompiledPlaybook } from '../playbooks/index.js';
import type { GuardedRun, Plan, PlannedRun, PlannedStep, RunContext } from './run-state.js';
import { stepRecord } from './step-record.js';
import { actionsIn } from './guard.js';
import { stepContext, stepResource } from './targets.js';

/** The action behind each of the playbook's steps, by index. */
export function actionsOf(context: RunContext, playbook: CompiledPlaybook): ActionDefinition[] {
  return actionsIn(context.services.registry, playbook.playbook);
}

function planOf(context: RunContext, playbook: CompiledPlaybook, records: ReadonlyMap<number, StepRecord>): Plan {
  const actions = actionsOf(context, playbook);
  const steps = playbook.playbook.steps.flatMap((step, index): PlannedStep[] => {
    const record = records.get(index);
    const action = actions[index];
    return record === undefined || action === undefined ? [] : [{ index, step, action, target: stepResource(context.targets, index, context.writer.runId), record }];
  });
  return {
    playbookId: playbook.playbook.id,
    matched: context.matched,
    steps,
    playbookSteps: playbook.playbook.steps,
    changesResources: steps.some((planned) => planned.record.status === 'changed' && planned.action.changesResources),
  };
}

/**
 * The plan stage: every step planned against the live state of its
 * target (reads only), each plan recorded. A step that cannot be planned is
 * recorded as failed and will not run; the others are planned all the same,
 * so the record shows everything the run would do.
 *
 * Plans only read, so they are made at once rather than one after another:
 * the run's critical path gets one step's reads, not the sum of all of them
 * (the per-account limit bounds the calls in flight, and reads the steps
 * share are sent once: src/aws/run-read-memo.ts). They are recorded in the
 * playbook's order, as before.
 */
export async function plan(run: GuardedRun): Promise<PlannedRun> {
  const { context, playbook } = run;
  const { services, writer, logger } = context;
  const steps = playbook.playbook.steps;
  const planned = await Promise.all(
    steps.map(async (step, index): Promise<StepRecord> => {
      try {
        const actionContext = stepContext(
          services,
          context,
          index,
          {
            runId: writer.runId,
            correlationId: writer.record.correlationId,
            playbookId: context.playbookId,
            earlierRunIds: context.earlierRunIds ?? [],
          },
          steps,
        );
        const outcome = await planStep({ registry: services.registry, action: step.action }, actionContext, step.params);
        return stepRecord(services, { index, action: step.action }, 'plan', outcome.compliant ? 'compliant' : 'changed', outcome.summary, { changes: outcome.changes });
      } catch (error) {
        logger.error('planning a step failed', { step: step.action, index, error });
        return stepRecord(services, { index, action: step.action }, 'plan', 'failed', serializeError(error).message, { error: serializeError(error) });
      }
    }),
  );
  const records = new Map<number, StepRecord>();
  for (const [index, record] of planned.entries()) {
    if (record.status !== 'failed') logger.debug('step planned', { step: record.action, index, compliant: record.status === 'compliant', summary: record.summary });
    // The last plan record moves the run to `planned` in the same write.
    await writer.append(record, index === steps.length - 1 ? { stage: 'planned' } : undefined);
    records.set(index, record);
  }
  if (steps.length === 0) await writer.advance({ stage: 'planned' });
  return { stage: 'planned', context, playbook, plan: planOf(context, playbook, records), carried: run.carried };
}

/** The plan of a run saved part-way (a resume), from the plan records it holds. */
export function restorePlan(context: RunContext, playbook: CompiledPlaybook, records: ReadonlyMap<number, StepRecord>): Plan {
  return planOf(context, playbook, records);
}

/** One line: what the plan would change, or that nothing needs to. */
export function describePlan(plan: Plan): string {
  const changes = plan.steps.filter((planned) => planned.record.status !== 'compliant');
  if (changes.length === 0) return 'nothing to change';
  return changes.map((planned) => `${planned.step.action}: ${planned.record.summary}`).join('; ');
}
