import pLimit from 'p-limit';

import type { PlaybookMatch } from '../engine/index.js';
import { IntakeError, readEvent, type Finding, type IntakeResult } from '../intake/index.js';
import { idempotencyKey, isTerminal, LedgerConflictError, RunAlreadyFinishedError, type RunRecord } from '../ledger/index.js';
import type { CompiledPlaybook } from '../playbooks/index.js';
import { PlaybookNotLoadedError, RollbackRefusedError, RunUnknownError } from './errors.js';
import { findingSkip } from './finding-guards.js';
import type { RunLogger } from './log/index.js';
import { decideMode } from './mode.js';
import { summarizeRun, type ResumeRequest } from './record/index.js';
import { carriedSteps, rollbackChanges, RunExecution } from './run-execution.js';
import { newCorrelationId, newRunId } from './run-id.js';
import { RunWriter } from './run-writer.js';
import { serializeError } from './serialize-error.js';
import { restoreFinding, storedFinding } from './stored-finding.js';
import type { FindingResult, PipelineOptions, PipelineResult, PipelineServices, PlaybookRunResult } from './types.js';

/** How long one worker holds a resume message: above the function timeout (60 s), under the resume queue's visibility timeout (360 s). */
const RESUME_LEASE_SECONDS = 300;

/**
 * The one entry point handlers, the CLI and tests call:
 * intake → match → guard → plan → execute → verify → record.
 *
 * Each finding of a delivery is handled on its own (bounded concurrency);
 * each matching playbook runs in priority order, and one playbook's failure
 * never stops the next one or the next finding. Nothing is thrown for a
 * finding: what went wrong is in its result, its run record and the logs.
 */
export class Pipeline {
  readonly #services: PipelineServices;
  readonly #playbooks: ReadonlyMap<string, CompiledPlaybook>;

  constructor(services: PipelineServices) {
    this.#services = services;
    this.#playbooks = new Map(services.playbooks.map((compiled) => [compiled.playbook.id, compiled]));
  }

  #now(): Date {
    return (this.#services.clock ?? (() => new Date()))();
  }

  /** An EventBridge event (object or JSON text): read, then handled finding by finding. */
  async handleEvent(event: unknown, options: PipelineOptions = {}): Promise<PipelineResult> {
    const correlationId = options.correlationId ?? newCorrelationId();
    let intake: IntakeResult;
    try {
      intake = readEvent(event);
    } catch (error) {
      if (!(error instanceof IntakeError)) throw error;
      this.#services.logger.error('event rejected', { correlationId, error });
      return { correlationId, findings: [], rejected: [], error: serializeError(error) };
    }
    return this.handleIntake(intake, { ...options, correlationId });
  }

  /** Findings intake has already read (an API request, a CLI file). */
  async handleIntake(intake: IntakeResult, options: PipelineOptions = {}): Promise<PipelineResult> {
    const correlationId = options.correlationId ?? newCorrelationId();
    const logger = this.#services.logger.child({ correlationId });
    logger.info('delivery received', { source: intake.envelope.source, detailType: intake.envelope.detailType, eventId: intake.envelope.id, findings: intake.findings.length, rejected: intake.rejected.length });
    for (const rejected of intake.rejected) logger.error('finding rejected by intake', { error: rejected });
    const limit = pLimit(this.#services.settings.concurrency);
    const findings = await Promise.all(intake.findings.map((finding) => limit(() => this.#handleFinding(finding, { ...options, correlationId }, logger))));
    return { correlationId, findings, rejected: intake.rejected.map(serializeError) };
  }

  async #handleFinding(finding: Finding, options: PipelineOptions & { correlationId: string }, parent: RunLogger): Promise<FindingResult> {
    const logger = parent.child({ findingId: finding.id, account: finding.account, region: finding.region });
    const base = { findingId: finding.id, account: finding.account, region: finding.region, title: finding.title };
    const skip = findingSkip(finding);
    if (skip !== undefined) {
      logger.info('finding skipped', { code: skip.code, reason: skip.reason });
      return { ...base, skipped: skip, runs: [] };
    }
    let matches: PlaybookMatch[];
    try {
      matches = await this.#services.matcher.match(finding);
    } catch (error) {
      logger.error('matching failed', { error });
      return { ...base, runs: [{ playbookId: '(matching)', status: 'failed', mode: 'off', modeReason: 'matching failed', matched: [], summary: serializeError(error).message, steps: [], error: serializeError(error) }] };
    }
    logger.info(matches.length === 0 ? 'no playbook matched' : 'playbooks matched', { playbooks: matches.map((match) => match.playbook.playbook.id) });
    const runs: PlaybookRunResult[] = [];
    for (const match of matches) runs.push(await this.#runPlaybook(finding, match, options, logger));
    return { ...base, runs };
  }

  async #runPlaybook(finding: Finding, match: PlaybookMatch, options: PipelineOptions & { correlationId: string }, parent: RunLogger): Promise<PlaybookRunResult> {
    const { settings, ledger } = this.#services;
    const playbook = match.playbook.playbook;
    const decision = decideMode(finding, playbook, settings.automatic, options.dryRun);
    const base = { playbookId: playbook.id, matched: match.conditions, modeReason: decision.reason, steps: [] };
    let logger = parent.child({ playbookId: playbook.id });
    if (decision.mode === 'off') {
      logger.info('not run', { reason: decision.reason });
      return { ...base, status: 'off', mode: 'off', summary: `not run: ${decision.reason}` };
    }

    const now = this.#now();
    const runId = newRunId(now);
    logger = logger.child({ runId });
    const api = finding.trigger.kind === 'api';
    const resource = finding.resources[0];
    // The same finding version, playbook, trigger and mode: once. API requests carry no finding of their own: their resource is the key.
    // Not Powertools idempotency: it keys one function call and caches its result, and forgets a call that threw. A run
    // needs more — one key per finding *and* playbook inside a batch, the owning run id to report a duplicate against,
    // and a failed run's key handed to its retry so completed steps carry over — so the claim lives in the run ledger.
    // (Its DynamoDB layer's conditional-put-with-expiry is the same technique.)
    const subject = api ? `api/${finding.account}/${finding.region}/${resource?.instanceId ?? resource?.id ?? finding.id}` : finding.id;
    const key = idempotencyKey(subject, api ? undefined : finding.updatedAt, `${playbook.id}|${finding.trigger.kind}|${decision.mode}`);
    const window = api ? settings.apiIdempotencyWindowSeconds : settings.idempotencyWindowSeconds;

    let retryOf: RunRecord | undefined;
    try {
      const claim = await ledger.claim(key, runId, window, now);
      if (!claim.claimed) {
        const existing = claim.existingRunId === '' ? undefined : await ledger.getRun(claim.existingRunId);
        if (existing !== undefined && !this.#retryable(existing, now)) {
          logger.info('duplicate delivery: already handled', { existingRunId: existing.runId, existingStatus: existing.status });
          return { ...base, status: 'duplicate', mode: decision.mode, duplicateOf: existing.runId, summary: `already handled by run ${existing.runId} (${existing.status}) within the idempotency window` };
        }
        const transfer = await ledger.transferClaim(key, claim.existingRunId, runId, window, now);
        if (!transfer.claimed) {
          return { ...base, status: 'duplicate', mode: decision.mode, duplicateOf: transfer.existingRunId, summary: `already being retried by run ${transfer.existingRunId}` };
        }
        retryOf = existing;
        if (existing !== undefined && !isTerminal(existing.status)) {
          await ledger
            .finishRun(existing.runId, 'failed', { summary: `abandoned: no progress since ${existing.updatedAt}; retried by run ${runId}` }, existing.version)
            .catch((error: unknown) => logger.warn('could not mark the abandoned run failed', { existingRunId: existing.runId, error }));
        }
        logger.info('retrying a failed run', { retryOf: claim.existingRunId });
      }

      const record = await ledger.startRun({
        runId,
        correlationId: options.correlationId,
        findingId: finding.id,
        ...(finding.updatedAt === undefined ? {} : { findingUpdatedAt: finding.updatedAt }),
        playbookId: playbook.id,
        account: finding.account,
        region: finding.region,
        trigger: finding.trigger.kind,
        mode: decision.mode,
        receivedEvent: finding.raw,
        finding: storedFinding(finding),
        attempt: (retryOf?.attempt ?? (retryOf === undefined ? 0 : 1)) + 1,
        ...(retryOf === undefined ? {} : { retryOf: retryOf.runId }),
      });
      logger.info('run started', { mode: decision.mode, reason: decision.reason, ...(retryOf === undefined ? {} : { retryOf: retryOf.runId }) });
      const execution = new RunExecution({
        services: this.#services,
        finding,
        compiled: match.playbook,
        record,
        logger,
        matched: match.conditions,
        modeReason: decision.reason,
        ...(options.remainingTimeMs === undefined ? {} : { remainingTimeMs: options.remainingTimeMs }),
      });
      return await execution.start(retryOf === undefined ? [] : carriedSteps(retryOf));
    } catch (error) {
      return this.#failed(runId, base, decision.mode, error, logger);
    }
  }

  /** A run a new delivery may take over: it failed, or it died without finishing. */
  #retryable(existing: RunRecord, now: Date): boolean {
    if (existing.status === 'failed') return true;
    if (isTerminal(existing.status)) return false;
    return now.getTime() - Date.parse(existing.updatedAt) > this.#services.settings.staleRunSeconds * 1000;
  }

  /** A run the pipeline itself could not carry on (the ledger unreachable, a conflicting writer): recorded as failed where possible. */
  async #failed(runId: string, base: Omit<PlaybookRunResult, 'status' | 'mode' | 'summary'>, mode: PlaybookRunResult['mode'], error: unknown, logger: RunLogger): Promise<PlaybookRunResult> {
    const serialized = serializeError(error);
    // A duplicate resume loses the race either way: to a write (conflict), or to the whole run being finished meanwhile.
    if (error instanceof LedgerConflictError || error instanceof RunAlreadyFinishedError) {
      logger.warn('another worker is writing this run: leaving it to them', { error });
      const summary = error instanceof RunAlreadyFinishedError ? `another worker finished run ${runId} (${error.current.status})` : `another worker is carrying on run ${runId}`;
      return { ...base, runId, status: 'duplicate', mode, summary, error: serialized };
    }
    logger.error('run failed', { error });
    const existing = await this.#services.ledger.getRun(runId).catch(() => undefined);
    if (existing !== undefined && !isTerminal(existing.status)) {
      await this.#services.ledger.finishRun(runId, 'failed', { summary: serialized.message, error: serialized }, existing.version).catch(() => undefined);
    }
    return { ...base, ...(existing === undefined ? {} : { runId }), status: 'failed', mode, summary: `failed: ${serialized.message}`, error: serialized };
  }

  /** Carries on a run saved with a step in progress (an SQS message with a delay brings it back here). */
  async resume(request: ResumeRequest, options: Omit<PipelineOptions, 'correlationId' | 'dryRun'> = {}): Promise<PlaybookRunResult> {
    const logger = this.#services.logger.child({ correlationId: request.correlationId, runId: request.runId });
    const record = await this.#services.ledger.getRun(request.runId);
    if (record === undefined) throw new RunUnknownError(request.runId, 'resume it');
    const base = { playbookId: record.playbookId, runId: record.runId, mode: record.mode, modeReason: 'resumed', matched: [], steps: [] };
    if (isTerminal(record.status)) {
      logger.info('resume: the run has already finished', { status: record.status });
      return { ...base, status: 'duplicate', duplicateOf: record.runId, summary: `run ${record.runId} already ${record.status}` };
    }
    const runLogger = logger.child({ findingId: record.findingId, playbookId: record.playbookId, account: record.account, region: record.region });
    // SQS delivers at least once: one worker per resume message. The lease outlasts a Lambda's run, and
    // lapses before the queue's visibility timeout redelivers a message whose worker died.
    const lease = await this.#services.ledger.claim(`resume|${request.runId}|${request.resumes}`, newCorrelationId(), RESUME_LEASE_SECONDS, this.#now());
    if (!lease.claimed) {
      logger.info('resume: another worker holds this resume', { resumes: request.resumes });
      return { ...base, status: 'duplicate', duplicateOf: record.runId, summary: `resume ${request.resumes} of run ${record.runId} is being carried out by another worker` };
    }
    try {
      const compiled = this.#playbooks.get(record.playbookId);
      if (compiled === undefined) throw new PlaybookNotLoadedError(record.playbookId, record.runId, 'resume it');
      const finding = restoreFinding(record);
      runLogger.info('run resumed', { resumes: request.resumes });
      const execution = new RunExecution({
        services: this.#services,
        finding,
        compiled,
        record,
        logger: runLogger,
        matched: [],
        modeReason: 'resumed',
        resumes: request.resumes,
        ...(options.remainingTimeMs === undefined ? {} : { remainingTimeMs: options.remainingTimeMs }),
      });
      return await execution.resume();
    } catch (error) {
      return this.#failed(record.runId, base, record.mode, error, runLogger);
    }
  }

  /**
   * Undoes a run's reversible changes, newest first, from what the ledger
   * recorded, as a run of its own (`rollbackOf`); the original becomes
   * `rolled-back` when every undo succeeded.
   *
   * @throws RunUnknownError, RollbackRefusedError (a plan, a run still going, a rollback run).
   */
  async rollback(runId: string, options: { readonly requestedBy?: string; readonly reason?: string; readonly correlationId?: string } = {}): Promise<PlaybookRunResult> {
    const { ledger, recorder } = this.#services;
    const original = await ledger.getRun(runId);
    if (original === undefined) throw new RunUnknownError(runId, 'roll it back');
    if (original.rollbackOf !== undefined) throw new RollbackRefusedError(runId, `it is itself the rollback of run ${original.rollbackOf}`);
    if (original.mode === 'plan') throw new RollbackRefusedError(runId, 'it was a plan: it changed nothing');
    if (original.status !== 'succeeded' && original.status !== 'failed') throw new RollbackRefusedError(runId, `it is ${original.status}`);

    const correlationId = options.correlationId ?? original.correlationId;
    const newId = newRunId(this.#now());
    const logger = this.#services.logger.child({ correlationId, runId: newId, rollbackOf: runId, findingId: original.findingId, playbookId: original.playbookId, account: original.account, region: original.region });
    const finding = restoreFinding(original);
    const record = await ledger.startRun({
      runId: newId,
      correlationId,
      findingId: original.findingId,
      ...(original.findingUpdatedAt === undefined ? {} : { findingUpdatedAt: original.findingUpdatedAt }),
      playbookId: original.playbookId,
      account: original.account,
      region: original.region,
      trigger: 'api',
      mode: 'enforce',
      receivedEvent: { rollbackOf: runId, requestedBy: options.requestedBy ?? 'unknown', ...(options.reason === undefined ? {} : { reason: options.reason }) },
      finding: original.finding,
      rollbackOf: runId,
    });
    logger.info('rollback started', { requestedBy: options.requestedBy });
    const writer = new RunWriter(ledger, record);
    const { failed, rolledBack } = await rollbackChanges(this.#services, finding, original, writer, logger);
    const status = failed === 0 ? 'succeeded' : 'failed';
    const summary = failed === 0 ? `rolled back run ${runId}: ${rolledBack} change${rolledBack === 1 ? '' : 's'} undone` : `rollback of run ${runId} incomplete: ${failed} undo${failed === 1 ? '' : 's'} failed, ${rolledBack} done`;
    const recording = await recorder.record(
      finding,
      summarizeRun(finding, writer.record.steps, { runId: newId, correlationId, playbookId: original.playbookId, trigger: 'api', mode: 'enforce', status, summary }, this.#now().toISOString()),
      { notify: true },
    );
    await writer.finish(status, { summary, details: { recording, rollbackOf: runId } });
    if (failed === 0) await ledger.finishRun(runId, 'rolled-back', { ...(original.outcome ?? { summary: '' }), summary: `rolled back by run ${newId}` }, original.version);
    logger.info(`rollback ${status}`, { summary });
    return { playbookId: original.playbookId, runId: newId, status, mode: 'enforce', modeReason: `rollback of run ${runId}`, matched: [], summary, steps: writer.appended, recording };
  }
}
