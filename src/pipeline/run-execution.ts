import { planStep, rollbackStep, runStep, verifyStep, type ActionContext, type ActionDefinition, type ActionOutcome } from '../actions/index.js';
import type { MemberTarget } from '../aws/index.js';
import type { Finding } from '../intake/index.js';
import type { RunMode, RunRecord, SerializedError, StepRecord, StepStatus } from '../ledger/index.js';
import type { CompiledPlaybook, PlaybookStep } from '../playbooks/index.js';
import { accountExemption, readResourceTags, resourceExemption } from './guards/index.js';
import type { RunLogger } from './log/index.js';
import { summarizeRun, type RunSummary } from './record/index.js';
import type { RecordingReport } from './recorder.js';
import { RunWriter } from './run-writer.js';
import { serializeError } from './serialize-error.js';
import { primaryResource, resourceForStep, resourceKey } from './targets.js';
import type { GuardCode, PipelineServices, PlaybookRunResult } from './types.js';
import { StepTimedOutError } from './errors.js';
import type { ConditionOutcome } from '../engine/index.js';

/** A change limit's sliding window: "per hour". */
const LIMIT_WINDOW_SECONDS = 3600;
/** Stop starting steps when the caller has less than this left, and resume instead. */
const TIME_MARGIN_MS = 30_000;

/** How a run of one playbook on one finding is carried out, from guards to the record. */
export interface RunExecutionInput {
  readonly services: PipelineServices;
  readonly finding: Finding;
  readonly compiled: CompiledPlaybook;
  readonly record: RunRecord;
  readonly logger: RunLogger;
  readonly matched: readonly ConditionOutcome[];
  readonly modeReason: string;
  readonly remainingTimeMs?: () => number;
  /** How many times this run has been resumed so far. */
  readonly resumes?: number;
}

const now = (services: PipelineServices): Date => (services.clock ?? (() => new Date()))();

/** Where a finding's steps act: its member account and region, under the run's correlation id. */
const targetOf = (finding: Finding, correlationId: string): MemberTarget => ({ account: finding.account, region: finding.region, partition: finding.partition, correlationId });

/** The context one step of a run (or of its rollback) acts in. */
function stepContext(services: PipelineServices, finding: Finding, action: ActionDefinition, target: MemberTarget, runId: string, playbookId: string): ActionContext {
  return { clients: services.clients, hosting: services.hosting, target, finding, resource: resourceForStep(finding, action), runId, playbookId };
}

/** The latest record of a phase for each step index. */
function latestByIndex(steps: readonly StepRecord[], phase: StepRecord['phase']): Map<number, StepRecord> {
  const latest = new Map<number, StepRecord>();
  for (const step of steps) if (step.phase === phase) latest.set(step.index, step);
  return latest;
}

/** A run step that finished (changed, compliant, skipped or failed-and-moved-on): not to be run again by this run. */
const finished = (step: StepRecord | undefined): boolean => step !== undefined && step.status !== 'in-progress';
/** A run step that did its work: what verification checks and a retry carries over. */
const succeeded = (step: StepRecord | undefined): boolean => step !== undefined && (step.status === 'changed' || step.status === 'compliant');

/**
 * The steps a failed run completed, to carry into its retry so that the
 * retry does not repeat them (and its own record still holds their undo).
 */
export function carriedSteps(previous: RunRecord): StepRecord[] {
  return [...latestByIndex(previous.steps, 'run').values()]
    .filter((step) => succeeded(step))
    .sort((a, b) => a.index - b.index)
    .map((step) => ({ ...step, carriedFromRunId: step.carriedFromRunId ?? previous.runId }));
}

/** One run of one playbook on one finding. */
export class RunExecution {
  readonly #input: RunExecutionInput;
  readonly #writer: RunWriter;
  readonly #actions: readonly ActionDefinition[];
  readonly #outcomes: ActionOutcome[] = [];

  constructor(input: RunExecutionInput) {
    this.#input = input;
    this.#writer = new RunWriter(input.services.ledger, input.record);
    this.#actions = input.compiled.playbook.steps.map((step) => input.services.registry.get(step.action));
  }

  get #playbook() {
    return this.#input.compiled.playbook;
  }

  get #mode(): RunMode {
    return this.#input.record.mode;
  }

  /** A fresh run: guards, the plan, then (in enforce mode) the steps, verification and the record. */
  async start(carried: readonly StepRecord[] = []): Promise<PlaybookRunResult> {
    const { services, finding, logger } = this.#input;
    const at = now(services);

    const account = accountExemption(this.#playbook.exempt.accounts, services.settings.excludedAccounts, finding.account, at);
    if (account.exempt) return this.#skip('account-exempt', account.reason);

    const guarded = primaryResource(finding, this.#actions);
    const exemptTags = { ...services.settings.exemptTags, ...this.#playbook.exempt.tags };
    try {
      const tags = await readResourceTags(services.clients, this.#target(), guarded);
      if (tags.kind === 'tags') {
        const decision = resourceExemption(exemptTags, tags.tags, at);
        if (decision.exempt) return this.#skip('resource-exempt', decision.reason);
        if (decision.reason !== undefined) logger.info('exemption no longer protects', { resource: resourceKey(guarded), reason: decision.reason });
      }
    } catch (error) {
      logger.warn('resource tags unreadable: nothing changes', { resource: resourceKey(guarded), error });
      return this.#skip('tags-unreadable', `the tags of ${resourceKey(guarded)} could not be read, so its exemption cannot be checked: nothing changed (${serializeError(error).message})`, error);
    }

    const planned = await this.#plan();

    if (this.#mode === 'plan') {
      const summary = `plan only, nothing changed: ${this.#describePlan(planned)}`;
      return this.#end('succeeded', summary, undefined, { notify: false });
    }

    const limits = this.#playbook.limits;
    const willChange = planned.some((step, index) => step.status === 'changed' && this.#actions[index]?.changesResources === true);
    if (limits !== undefined && willChange) {
      const key = resourceKey(guarded);
      const reservation = await services.ledger.reserveChange(this.#playbook.id, key, limits.maxResourcesPerHour, LIMIT_WINDOW_SECONDS, at);
      if (!reservation.allowed) {
        // Notify once per trip, not once per refused finding: a fleet-wide storm would otherwise be a storm of messages too.
        const first = await services.ledger.claim(`limit-tripped|${this.#playbook.id}`, this.#writer.runId, LIMIT_WINDOW_SECONDS, at);
        logger.error('change limit reached: playbook stopped', { resource: key, limit: reservation.limit, used: reservation.used });
        return this.#skip(
          'limit-reached',
          `playbook ${this.#playbook.id} has changed ${reservation.used} resources in the last hour, its limit (limits.maxResourcesPerHour: ${reservation.limit}): ${key} was not changed. Circuit breaker open until the hour passes; check the playbook`,
          undefined,
          first.claimed,
        );
      }
    }

    for (const step of carried) await this.#writer.append(step);
    return this.#continue();
  }

  /** A run that was saved with a step in progress: carry on from where it stopped. */
  async resume(): Promise<PlaybookRunResult> {
    return this.#continue();
  }

  /** Runs the steps not yet finished, then verifies and records. */
  async #continue(): Promise<PlaybookRunResult> {
    const { services, logger, remainingTimeMs } = this.#input;
    const steps = this.#playbook.steps;
    let stoppedBy: string | undefined;

    for (const [index, step] of steps.entries()) {
      const previous = latestByIndex(this.#writer.record.steps, 'run').get(index);
      if (finished(previous)) {
        if (previous?.status === 'failed' && !step.continueOnError) stoppedBy = previous.action;
        if (succeeded(previous)) this.#outcomes.push(this.#outcomeOf(previous as StepRecord));
        continue;
      }
      const action = this.#actions[index] as ActionDefinition;
      if (stoppedBy !== undefined) {
        await this.#append(index, step, 'run', 'skipped', `not run: step ${stoppedBy} failed before it`);
        continue;
      }
      const plan = latestByIndex(this.#writer.record.steps, 'plan').get(index);
      if (plan?.status === 'failed') {
        await this.#append(index, step, 'run', 'skipped', `not run: its plan failed (${plan.error?.message ?? plan.summary})`);
        if (!step.continueOnError) stoppedBy = step.action;
        continue;
      }
      if (remainingTimeMs !== undefined && remainingTimeMs() < TIME_MARGIN_MS) {
        logger.info('little time left: saving the run to resume it', { step: step.action, index });
        return this.#pause(1, `stopped before step ${index + 1} (${step.action}) with ${Math.round(remainingTimeMs() / 1000)} s left`);
      }

      const context = this.#context(action);
      const stepLog = logger.child({ step: step.action, index });
      try {
        const outcome = await runStep({ registry: services.registry, action: step.action }, context, step.params);
        if (outcome.inProgress !== undefined) {
          const resumes = this.#input.resumes ?? 0;
          if (resumes >= services.settings.maxResumes) {
            throw new StepTimedOutError(this.#writer.runId, step.action, index, outcome.inProgress.detail, `${resumes} resumes`);
          }
          await this.#append(index, step, 'run', 'in-progress', outcome.summary, { changes: outcome.changes, inProgress: outcome.inProgress });
          stepLog.info('step in progress: run saved to resume', { detail: outcome.inProgress.detail, checkAfterSeconds: outcome.inProgress.checkAfterSeconds });
          return this.#pause(outcome.inProgress.checkAfterSeconds, outcome.inProgress.detail);
        }
        await this.#append(index, step, 'run', outcome.changed ? 'changed' : 'compliant', outcome.summary, {
          changes: outcome.changes,
          ...(outcome.undo === undefined ? {} : { undo: outcome.undo }),
          ...evidenceOf(outcome),
        });
        this.#outcomes.push(outcome);
        stepLog.info(outcome.changed ? 'step changed' : 'step found nothing to change', { summary: outcome.summary });
      } catch (error) {
        await this.#append(index, step, 'run', 'failed', serializeError(error).message, { error: serializeError(error) });
        stepLog.error('step failed', { error, continueOnError: step.continueOnError });
        if (!step.continueOnError) stoppedBy = step.action;
      }
    }

    return this.#verifyAndEnd();
  }

  async #verifyAndEnd(): Promise<PlaybookRunResult> {
    const { services, logger } = this.#input;
    const runs = latestByIndex(this.#writer.record.steps, 'run');
    for (const [index, step] of this.#playbook.steps.entries()) {
      const run = runs.get(index);
      if (!succeeded(run)) continue;
      // A step carried from an earlier attempt did its work under that attempt's run id (evidence keys, snapshot tags): verify that work.
      const context = this.#context(this.#actions[index] as ActionDefinition, run?.carriedFromRunId);
      try {
        const verification = await verifyStep({ registry: services.registry, action: step.action }, context, step.params);
        await this.#append(index, step, 'verify', verification.compliant ? 'compliant' : 'failed', verification.summary);
        if (!verification.compliant) logger.warn('verification failed', { step: step.action, index, summary: verification.summary });
      } catch (error) {
        await this.#append(index, step, 'verify', 'failed', serializeError(error).message, { error: serializeError(error) });
        logger.error('verification could not read the state back', { step: step.action, index, error });
      }
    }

    const records = this.#writer.record.steps;
    const finalRuns = latestByIndex(records, 'run');
    const verifications = latestByIndex(records, 'verify');
    const problems: string[] = [];
    for (const [index, step] of this.#playbook.steps.entries()) {
      const run = finalRuns.get(index);
      if (run === undefined || run.status === 'failed' || run.status === 'skipped') problems.push(`${step.action} ${run?.status ?? 'not run'}`);
      else if (verifications.get(index)?.status !== 'compliant') problems.push(`${step.action} not verified`);
    }
    const changed = [...finalRuns.values()].filter((run) => run.status === 'changed' && run.carriedFromRunId === undefined).length;
    if (problems.length === 0) {
      return this.#end('succeeded', `fixed and verified: ${changed} step${changed === 1 ? '' : 's'} changed something, every step verified`, 'RESOLVED', { notify: true });
    }
    return this.#end('failed', `not fixed: ${problems.join('; ')}`, 'NOTIFIED', { notify: true });
  }

  /** Plans every step (reads only) and records the plans. */
  async #plan(): Promise<StepRecord[]> {
    const { services, logger } = this.#input;
    const planned: StepRecord[] = [];
    for (const [index, step] of this.#playbook.steps.entries()) {
      const context = this.#context(this.#actions[index] as ActionDefinition);
      try {
        const plan = await planStep({ registry: services.registry, action: step.action }, context, step.params);
        planned.push(await this.#append(index, step, 'plan', plan.compliant ? 'compliant' : 'changed', plan.summary, { changes: plan.changes }));
        logger.debug('step planned', { step: step.action, index, compliant: plan.compliant, summary: plan.summary });
      } catch (error) {
        logger.error('planning a step failed', { step: step.action, index, error });
        planned.push(await this.#append(index, step, 'plan', 'failed', serializeError(error).message, { error: serializeError(error) }));
      }
    }
    return planned;
  }

  #describePlan(planned: readonly StepRecord[]): string {
    const changes = planned.filter((step) => step.status !== 'compliant');
    if (changes.length === 0) return 'nothing to change';
    return changes.map((step) => `${step.action}: ${step.summary}`).join('; ');
  }

  async #append(index: number, step: PlaybookStep, phase: StepRecord['phase'], status: StepStatus, summary: string, extra: Partial<StepRecord> = {}): Promise<StepRecord> {
    const record: StepRecord = {
      index,
      action: step.action,
      phase,
      status,
      summary,
      changes: [],
      ...extra,
      at: now(this.#input.services).toISOString(),
    };
    await this.#writer.append(record);
    return record;
  }

  #outcomeOf(step: StepRecord): ActionOutcome {
    return { action: step.action, resource: '', changed: step.status === 'changed', summary: step.summary, changes: step.changes };
  }

  #target(): MemberTarget {
    return targetOf(this.#input.finding, this.#input.record.correlationId);
  }

  #context(action: ActionDefinition, runId: string = this.#writer.runId): ActionContext {
    return { ...stepContext(this.#input.services, this.#input.finding, action, this.#target(), runId, this.#playbook.id), previousOutcomes: [...this.#outcomes] };
  }

  async #pause(delaySeconds: number, detail: string): Promise<PlaybookRunResult> {
    const { services, record } = this.#input;
    const resumes = (this.#input.resumes ?? 0) + 1;
    await services.resumeQueue.schedule({ kind: 'riposte.resume', runId: record.runId, resumes, correlationId: record.correlationId }, delaySeconds);
    return this.#result('in-progress', `in progress: ${detail}; resumes in ${delaySeconds} s`, { resume: { delaySeconds } });
  }

  async #skip(code: GuardCode, reason: string, error?: unknown, notify = false): Promise<PlaybookRunResult> {
    return this.#end('skipped', reason, undefined, { notify, guard: { code, reason }, ...(error === undefined ? {} : { error: serializeError(error) }) });
  }

  async #end(
    status: 'succeeded' | 'failed' | 'skipped',
    summary: string,
    workflow: 'RESOLVED' | 'NOTIFIED' | undefined,
    options: { notify: boolean; guard?: { code: GuardCode; reason: string }; error?: SerializedError },
  ): Promise<PlaybookRunResult> {
    const { services, finding, logger } = this.#input;
    const runSummary = this.#summary(status, summary, workflow);
    const recording = await services.recorder.record(finding, runSummary, { ...(workflow === undefined ? {} : { workflow }), notify: options.notify });
    for (const [kind, item] of Object.entries(recording)) {
      if (item.status === 'failed') logger.error(`recording the run failed: ${kind}`, { error: item.error });
    }
    await this.#writer.finish(status, {
      summary,
      ...(workflow === undefined ? {} : { workflowStatus: workflow }),
      ...(options.error === undefined ? {} : { error: options.error }),
      details: { recording, ...(options.guard === undefined ? {} : { guard: options.guard }) },
    });
    logger.info(`run ${status}`, { summary, workflowStatus: workflow });
    return this.#result(status, summary, {
      ...(workflow === undefined ? {} : { workflowStatus: workflow }),
      ...(options.guard === undefined ? {} : { guard: options.guard }),
      ...(options.error === undefined ? {} : { error: options.error }),
      recording,
    });
  }

  #summary(status: string, summary: string, workflow: 'RESOLVED' | 'NOTIFIED' | undefined): RunSummary {
    const { finding, record } = this.#input;
    return summarizeRun(
      finding,
      this.#writer.record.steps,
      { runId: record.runId, correlationId: record.correlationId, playbookId: this.#playbook.id, playbookTitle: this.#playbook.title, trigger: record.trigger, mode: record.mode, status, summary, ...(workflow === undefined ? {} : { workflowStatus: workflow }) },
      now(this.#input.services).toISOString(),
    );
  }

  #result(status: PlaybookRunResult['status'], summary: string, extra: Partial<PlaybookRunResult>): PlaybookRunResult {
    return {
      playbookId: this.#playbook.id,
      runId: this.#writer.runId,
      status,
      mode: this.#mode,
      modeReason: this.#input.modeReason,
      matched: this.#input.matched,
      summary,
      steps: this.#writer.appended,
      ...extra,
    };
  }
}

/** Evidence digests an outcome's changes name (`{ key, sha256 }` values). */
function evidenceOf(outcome: ActionOutcome): Pick<StepRecord, 'evidence'> {
  const evidence = outcome.changes
    .map((change) => change.to)
    .filter((to): to is { key: string; sha256: string } => typeof to === 'object' && to !== null && typeof (to as { key?: unknown }).key === 'string' && typeof (to as { sha256?: unknown }).sha256 === 'string')
    .map(({ key, sha256 }) => ({ key, sha256 }));
  return evidence.length === 0 ? {} : { evidence };
}

/** Rolls back one recorded run's reversible changes, newest first, as a run of its own. */
export async function rollbackChanges(
  services: PipelineServices,
  finding: Finding,
  original: RunRecord,
  writer: RunWriter,
  logger: RunLogger,
): Promise<{ failed: number; rolledBack: number }> {
  const changes = original.steps.filter((step) => step.phase === 'run' && step.status === 'changed' && step.undo !== undefined).reverse();
  let failed = 0;
  let rolledBack = 0;
  for (const step of changes) {
    const target = targetOf(finding, writer.record.correlationId);
    const context = stepContext(services, finding, services.registry.get(step.action), target, writer.runId, original.playbookId);
    const base = { index: step.index, action: step.action, phase: 'rollback' as const };
    try {
      const outcome = await rollbackStep({ registry: services.registry, action: step.action }, context, step.undo);
      await writer.append({ ...base, status: outcome.changed ? 'changed' : 'compliant', summary: outcome.summary, changes: outcome.changes, at: now(services).toISOString() });
      rolledBack += 1;
      logger.info('step rolled back', { step: step.action, index: step.index, summary: outcome.summary });
    } catch (error) {
      failed += 1;
      await writer.append({ ...base, status: 'failed', summary: serializeError(error).message, changes: [], error: serializeError(error), at: now(services).toISOString() });
      logger.error('rolling back a step failed', { step: step.action, index: step.index, error });
    }
  }
  return { failed, rolledBack };
}
