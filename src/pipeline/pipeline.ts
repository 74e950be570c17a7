import pLimit from 'p-limit';

import { withRunReadMemo } from '../aws/index.js';
import type { PlaybookMatch } from '../engine/index.js';
import { serializeError } from '../errors.js';
import { IntakeError, readEvent, type Finding, type IntakeResult } from '../intake/index.js';
import { isTerminal, type RunLedger, type RunMode, type RunRecord, type StepRecord } from '../ledger/index.js';
import { logCapped, type RunLogger } from '../log/index.js';
import type { CompiledPlaybook } from '../playbooks/index.js';
import { PlaybookNotLoadedError, RollbackRefusedError, RunUnknownError } from './errors.js';
import { guardFinding, guardIdempotency, guardMode, resolveRun } from './guard.js';
import { heldLease, leaseResource, resourceLeaseKey, type ResourceLease } from './guards/resource-lease.js';
import { driveSafely, failed } from './machine.js';
import type { ResumeRequest } from './record/index.js';
import { restoreFinding, restoreRun, storedFinding } from './restore.js';
import { selectRuns } from './on-demand.js';
import { newCorrelationId, newRunId } from './run-id.js';
import type { RunContext, RunIdentity } from './run-state.js';
import { RunWriter } from './run-writer.js';
import { restoreTargets, type RunTargets } from './targets.js';
import { latestByIndex, now, succeeded } from './step-record.js';
import type { FindingResult, PipelineOptions, PipelineResult, PipelineServices, PlaybookRunResult } from './types.js';

/** How long one worker holds a resume message: above the function timeout (60 s), under the resume queue's visibility timeout (360 s). */
const RESUME_LEASE_SECONDS = 300;

/** How many earlier attempts a retry looks back through (each is one ledger read). */
const MAX_ATTEMPTS_WALKED = 20;

/** The runs `record` retries, newest first: its `retryOf`, that run's, and so on. */
async function attemptsBefore(ledger: RunLedger, record: Pick<RunRecord, 'retryOf'>): Promise<string[]> {
  const ids: string[] = [];
  for (let next = record.retryOf; next !== undefined && ids.length < MAX_ATTEMPTS_WALKED && !ids.includes(next); next = (await ledger.getRun(next))?.retryOf) ids.push(next);
  return ids;
}

/** Whether a run got as far as executing steps: it may have changed something, recorded or not. */
const startedChanging = (record: RunRecord): boolean => record.history.some((transition) => transition.state.stage === 'executing');

/** The targets a run's record holds, or `undefined` when it holds none it can be trusted for. */
function storedTargets(record: RunRecord): RunTargets | undefined {
  try {
    return restoreTargets(record);
  } catch {
    return undefined;
  }
}

/**
 * The steps a failed run completed, to carry into its retry so that the
 * retry does not repeat them (and its own record still holds their undo).
 */
function carriedSteps(previous: RunRecord): StepRecord[] {
  return [...latestByIndex(previous.steps, 'run').values()].filter((step) => succeeded(step)).map((step) => ({ ...step, carriedFromRunId: step.carriedFromRunId ?? previous.runId }));
}

/**
 * The one entry point handlers, the CLI and tests call:
 * intake → match → guard → plan → execute → verify → record.
 *
 * Each finding of a delivery is handled on its own (bounded concurrency);
 * each matching playbook runs in priority order, and one playbook's failure
 * never stops the next one or the next finding. Nothing is thrown for a
 * finding: what went wrong is in its result, its run record and the logs.
 * The run itself is the state machine in `machine.ts`; this class starts
 * runs (fresh, resumed, rollback) and hands them to it.
 */
export class Pipeline {
  readonly #services: PipelineServices;
  readonly #playbooks: ReadonlyMap<string, CompiledPlaybook>;

  constructor(services: PipelineServices) {
    this.#services = services;
    this.#playbooks = new Map(services.playbooks.map((compiled) => [compiled.playbook.id, compiled]));
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
    logger.info('delivery received', {
      source: intake.envelope.source,
      detailType: intake.envelope.detailType,
      eventId: intake.envelope.id,
      findings: intake.findings.length,
      rejected: intake.rejected.length,
    });
    // One event can carry tens of thousands of broken findings: the first few are logged one by one, the rest as counts by error code.
    logCapped(logger, intake.rejected, { level: 'error', message: 'finding rejected by intake', attributes: (error) => ({ error }), countBy: (error) => error.code });
    const limit = pLimit(this.#services.settings.concurrency);
    const findings = await Promise.all(intake.findings.map((finding) => limit(() => this.#handleFinding(finding, { ...options, correlationId }, logger))));
    return { correlationId, findings, rejected: intake.rejected.map((error) => serializeError(error)) };
  }

  async #handleFinding(finding: Finding, options: PipelineOptions & { correlationId: string }, parent: RunLogger): Promise<FindingResult> {
    const logger = parent.child({ findingId: finding.id, account: finding.account, region: finding.region });
    const base = { findingId: finding.id, account: finding.account, region: finding.region, title: finding.title };
    let decision;
    try {
      decision = await guardFinding(finding, this.#services.ledger);
    } catch (error) {
      logger.error('the finding guard failed', { error });
      return { ...base, runs: [], error: serializeError(error) };
    }
    if (decision.verdict === 'stop') {
      logger.info('finding skipped', { code: decision.code, reason: decision.reason });
      return { ...base, skipped: { code: decision.code, reason: decision.reason }, runs: [] };
    }
    let matches: PlaybookMatch[];
    try {
      matches = await this.#services.matcher.match(finding);
    } catch (error) {
      logger.error('matching failed', { error });
      return { ...base, runs: [], error: serializeError(error) };
    }
    logger.info(matches.length === 0 ? 'no playbook matched' : 'playbooks matched', { playbooks: matches.map((match) => match.playbook.playbook.id) });
    // An on-demand request runs the one playbook it names or the library chooses, or is refused (src/pipeline/on-demand.ts).
    const selection = selectRuns(finding, matches, this.#services.playbooks);
    if ('refused' in selection) {
      logger.warn('on-demand request refused', { error: selection.refused });
      return { ...base, runs: [], error: serializeError(selection.refused) };
    }
    const runs: PlaybookRunResult[] = [];
    // Each run its own window of shared reads (src/aws/run-read-memo.ts).
    for (const match of selection.runs) runs.push(await withRunReadMemo(() => this.#runPlaybook(finding, match, options, logger)));
    return { ...base, runs };
  }

  /** A fresh run of one matched playbook: admitted by mode and idempotency, recorded as claimed, then driven. */
  async #runPlaybook(finding: Finding, match: PlaybookMatch, options: PipelineOptions & { correlationId: string }, parent: RunLogger): Promise<PlaybookRunResult> {
    const playbook = match.playbook.playbook;
    const at = now(this.#services);
    const runId = newRunId(at);
    let logger = parent.child({ playbookId: playbook.id });
    const mode = guardMode(this.#services, finding, playbook, options.dryRun);
    const unrecorded = { playbookId: playbook.id, matched: match.conditions, steps: [], modeReason: mode.verdict === 'go' ? mode.modeReason : mode.reason };
    if (mode.verdict === 'stop') {
      logger.info('not run', { reason: mode.reason });
      return { ...unrecorded, status: 'off', mode: 'off', summary: `not run: ${mode.reason}` };
    }
    let admission;
    try {
      admission = await guardIdempotency(
        this.#services,
        finding,
        { playbookId: playbook.id, mode: mode.mode, runId, now: at, ...(options.deliveryId === undefined ? {} : { deliveryId: options.deliveryId }) },
        logger.child({ runId }),
      );
    } catch (error) {
      logger.error('run failed', { runId, error });
      return { ...unrecorded, status: 'failed', mode: mode.mode, summary: `failed: ${serializeError(error).message}`, error: serializeError(error) };
    }
    if (admission.verdict === 'stop') {
      return { ...unrecorded, status: 'duplicate', mode: mode.mode, ...(admission.duplicateOf === undefined ? {} : { duplicateOf: admission.duplicateOf }), summary: admission.reason };
    }

    logger = logger.child({ runId });
    // One run at a time changes a resource (src/pipeline/guards/resource-lease.ts): leased before it is resolved, so the resolution sees what the last holder left.
    const leaseKey = resourceLeaseKey(finding, mode.mode);
    let lease: ResourceLease | undefined;
    if (leaseKey !== undefined) {
      try {
        lease = await leaseResource(
          this.#services.ledger,
          this.#services.settings,
          {
            key: leaseKey,
            runId,
            ...(admission.supersedes === undefined ? {} : { supersedes: admission.supersedes }),
            now: () => now(this.#services),
            ...(options.remainingTimeMs === undefined ? {} : { remainingTimeMs: options.remainingTimeMs }),
          },
          logger,
        );
      } catch (error) {
        logger.error('run failed', { error });
        return { ...unrecorded, status: 'failed', mode: mode.mode, summary: `failed: ${serializeError(error).message}`, error: serializeError(error) };
      }
    }
    let result: PlaybookRunResult | undefined;
    try {
      result = await this.#startAndDrive(finding, match, { runId, at, mode: mode.mode, modeReason: mode.modeReason, retryOf: admission.retryOf, unrecorded }, options, logger);
      return result;
    } finally {
      // A run part-way through (resumed later from the queue) keeps its lease, so no other run changes the resource meanwhile; the lease's window bounds that.
      if (result?.status !== 'in-progress') await lease?.release();
    }
  }

  /** Resolves the run's targets, records the run, and drives it to its end (or a pause). */
  async #startAndDrive(
    finding: Finding,
    match: PlaybookMatch,
    run: { runId: string; at: Date; mode: RunMode; modeReason: string; retryOf: RunRecord | undefined; unrecorded: Omit<PlaybookRunResult, 'status' | 'mode' | 'summary'> },
    options: PipelineOptions & { correlationId: string },
    logger: RunLogger,
  ): Promise<PlaybookRunResult> {
    const playbook = match.playbook.playbook;
    const { runId, at, retryOf, unrecorded } = run;
    const mode = { mode: run.mode, modeReason: run.modeReason };
    let record: RunRecord;
    let targets: RunTargets | undefined;
    let earlierRunIds: readonly string[];
    try {
      // Each step's target, resolved once, live, before the record exists: the record is born holding them. A retry
      // of an attempt that had started changing things acts on what that attempt resolved: resolved again, its own
      // changes would hide what it acted on (a profile it detached names no role whose sessions are still to revoke).
      const inherited = retryOf !== undefined && startedChanging(retryOf) ? storedTargets(retryOf) : undefined;
      if (inherited !== undefined) logger.info('retry: acting on the targets its earlier attempt resolved', { retryOf: retryOf?.runId });
      targets = inherited ?? (await resolveRun(this.#services, finding, playbook, { correlationId: options.correlationId, now: at }));
      earlierRunIds = retryOf === undefined ? [] : [retryOf.runId, ...(await attemptsBefore(this.#services.ledger, retryOf))];
      record = await this.#services.ledger.startRun({
        runId,
        correlationId: options.correlationId,
        findingId: finding.id,
        ...(finding.updatedAt === undefined ? {} : { findingUpdatedAt: finding.updatedAt }),
        playbookId: playbook.id,
        account: finding.account,
        region: finding.region,
        trigger: finding.trigger.kind,
        mode: mode.mode,
        receivedEvent: finding.raw,
        finding: storedFinding(finding),
        attempt: (retryOf?.attempt ?? (retryOf === undefined ? 0 : 1)) + 1,
        ...(retryOf === undefined ? {} : { retryOf: retryOf.runId }),
        ...(options.deliveryId === undefined ? {} : { deliveryId: options.deliveryId }),
        ...(targets === undefined ? {} : { targets }),
        matched: match.conditions.filter((condition) => condition.result).map(({ fact, operator, value, factValue }) => ({ fact, operator, value, factValue })),
      });
    } catch (error) {
      logger.error('run failed', { error });
      return { ...unrecorded, status: 'failed', mode: mode.mode, summary: `failed: ${serializeError(error).message}`, error: serializeError(error) };
    }
    logger.info('run started', { mode: mode.mode, reason: mode.modeReason, ...(retryOf === undefined ? {} : { retryOf: retryOf.runId }) });
    const context = this.#context(
      finding,
      targets,
      record,
      logger,
      {
        playbookId: playbook.id,
        playbookTitle: playbook.title,
        matched: match.conditions,
        modeReason: mode.modeReason,
        resumes: 0,
        earlierRunIds,
        ...(retryOf === undefined ? {} : { earlierPlans: latestByIndex(retryOf.steps, 'plan') }),
      },
      options,
    );
    return driveSafely({ stage: 'claimed', context, playbook: match.playbook, carried: retryOf === undefined ? [] : carriedSteps(retryOf) });
  }

  #context(
    finding: Finding,
    targets: RunTargets | undefined,
    record: RunRecord,
    logger: RunLogger,
    run: Pick<RunContext, 'playbookId' | 'playbookTitle' | 'matched' | 'modeReason' | 'resumes' | 'earlierRunIds' | 'earlierPlans'>,
    options: Pick<PipelineOptions, 'remainingTimeMs'>,
  ): RunContext {
    return {
      services: this.#services,
      finding,
      targets,
      writer: new RunWriter(this.#services.ledger, record),
      logger,
      ...run,
      ...(options.remainingTimeMs === undefined ? {} : { remainingTimeMs: options.remainingTimeMs }),
    };
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
    // SQS delivers at least once: one worker per resume message. The lease outlasts a Lambda's run, and
    // lapses before the queue's visibility timeout redelivers a message whose worker died.
    const lease = await this.#services.ledger.claim(`resume|${request.runId}|${request.resumes}`, newCorrelationId(), RESUME_LEASE_SECONDS, now(this.#services));
    if (!lease.claimed) {
      logger.info('resume: another worker holds this resume', { resumes: request.resumes });
      return { ...base, status: 'duplicate', duplicateOf: record.runId, summary: `resume ${request.resumes} of run ${record.runId} is being carried out by another worker` };
    }
    const runLogger = logger.child({ findingId: record.findingId, playbookId: record.playbookId, account: record.account, region: record.region });
    const compiled = this.#playbooks.get(record.playbookId);
    let context: RunContext | undefined;
    try {
      if (compiled === undefined) throw new PlaybookNotLoadedError(record.playbookId, record.runId, 'resume it');
      context = this.#context(
        restoreFinding(record),
        restoreTargets(record),
        record,
        runLogger,
        {
          playbookId: record.playbookId,
          playbookTitle: compiled.playbook.title,
          matched: [],
          modeReason: 'resumed',
          resumes: request.resumes,
          earlierRunIds: await attemptsBefore(this.#services.ledger, record),
        },
        options,
      );
      runLogger.info('run resumed', { resumes: request.resumes });
      const result = await driveSafely(restoreRun(context, compiled));
      // The resource lease the run kept while paused, given up once it ends (src/pipeline/guards/resource-lease.ts).
      const leaseKey = resourceLeaseKey(context.finding, record.mode);
      if (result.status !== 'in-progress' && leaseKey !== undefined) await heldLease(this.#services.ledger, leaseKey, record.runId, runLogger).release();
      return result;
    } catch (error) {
      // The run could not even be restored (its playbook unloaded, its finding unreadable): it fails, recorded as such.
      return failed(context ?? this.#bareContext(record, runLogger, 'resumed'), error);
    }
  }

  /** What failing a run needs of it, for a run that could not be restored. */
  #bareContext(record: RunRecord, logger: RunLogger, modeReason: string): RunIdentity {
    return { services: this.#services, writer: new RunWriter(this.#services.ledger, record), logger, playbookId: record.playbookId, matched: [], modeReason };
  }

  /**
   * Undoes a run's reversible changes, last step first, from what the ledger
   * recorded, as a run of its own (`rollbackOf`); the original becomes
   * `rolled-back` when every undo succeeded.
   *
   * @throws RunUnknownError, RollbackRefusedError (a plan, a run still going, a rollback run), StoredTargetsInvalidError (a record without its resolved targets).
   */
  async rollback(runId: string, options: { readonly requestedBy?: string; readonly reason?: string; readonly correlationId?: string } = {}): Promise<PlaybookRunResult> {
    const { ledger } = this.#services;
    const original = await ledger.getRun(runId);
    if (original === undefined) throw new RunUnknownError(runId, 'roll it back');
    if (original.rollbackOf !== undefined) throw new RollbackRefusedError(runId, `it is itself the rollback of run ${original.rollbackOf}`);
    if (original.mode === 'plan') throw new RollbackRefusedError(runId, 'it was a plan: it changed nothing');
    if (original.status !== 'succeeded' && original.status !== 'failed') throw new RollbackRefusedError(runId, `it is ${original.status}`);

    const correlationId = options.correlationId ?? original.correlationId;
    const newId = newRunId(now(this.#services));
    const logger = this.#services.logger.child({
      correlationId,
      runId: newId,
      rollbackOf: runId,
      findingId: original.findingId,
      playbookId: original.playbookId,
      account: original.account,
      region: original.region,
    });
    const finding = restoreFinding(original);
    const targets = restoreTargets(original);
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
      targets,
      rollbackOf: runId,
    });
    logger.info('rollback started', { requestedBy: options.requestedBy });
    // The undo acts where the original run acted: its recorded targets (checked before the rollback run is recorded).
    const context = this.#context(finding, targets, record, logger, { playbookId: original.playbookId, matched: [], modeReason: `rollback of run ${runId}`, resumes: 0 }, {});
    try {
      await context.writer.advance({ stage: 'rolling-back', of: runId });
    } catch (error) {
      return failed(context, error);
    }
    return driveSafely({ stage: 'rolling-back', context, original });
  }
}
