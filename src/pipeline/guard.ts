import { memberLiveView, type ActionRegistry } from '../actions/index.js';
import type { SerializedError } from '../errors.js';
import type { Finding } from '../intake/index.js';
import type { RunLedger, RunMode, RunRecord } from '../ledger/index.js';
import type { RunLogger } from '../log/index.js';
import type { CompiledPlaybook, Playbook } from '../playbooks/index.js';
import { accountExemption, resourceExemption } from './guards/exemption.js';
import { findingSkip } from './guards/finding.js';
import { claimWork } from './guards/idempotency.js';
import { decideMode } from './guards/mode.js';
import type { Plan, RunContext } from './run-state.js';
import { memberTarget, primaryTarget, resolveTargets, resourceKey, type RunTargets } from './targets.js';
import type { GuardCode, PipelineServices } from './types.js';

/*
 * The guards: everything that can stop a run, in one place. Five sources,
 * each asked where what it needs is known, in this order:
 *
 * | source       | asks                                         | where                          |
 * |--------------|----------------------------------------------|--------------------------------|
 * | finding      | Riposte's own update coming back? closed?     | before matching (`guardFinding`) |
 * | mode         | off, plan or enforce for this trigger?       | before a run exists (`guardMode`) |
 * | idempotency  | has another run this work already?           | before a run exists (`guardIdempotency`) |
 * | exemptions   | account excluded or exempt? target disputed, | claimed → guarded (`guardRun`) |
 * |              | stale, unreadable or tagged exempt?           |                                |
 * | change limit | has the playbook changed too much this hour? | planned → executing (`guardChanges`) |
 *
 * Every guard after the mode asks about the same thing: the run's targets,
 * resolved once, live (`resolveRun`, between the idempotency claim and the
 * run's first record, which holds them). The exemption guard reads their
 * tags, the change limit counts the primary target's ARN; neither looks at
 * the finding's resource again.
 *
 * The change limit comes after the plan on purpose: only a resource the
 * plan would change takes one of the playbook's slots, so a fleet of
 * compliant resources never trips it.
 */

/** A change limit's sliding window: "per hour". */
const LIMIT_WINDOW_SECONDS = 3600;

/** Why a guard stops: the finding's own (`own-update`, `closed`), before a run exists (`off`, `duplicate`), or a run's (recorded as skipped). */
export type StopCode = 'own-update' | 'closed' | 'off' | 'duplicate' | GuardCode;

/** What the guards say about a finding or a run: go on (with what the guard learned), or stop — and why. */
export type GuardDecision<Go = object, Code extends StopCode = StopCode> =
  | ({ readonly verdict: 'go' } & Go)
  | {
      readonly verdict: 'stop';
      readonly code: Code;
      readonly reason: string;
      /** For a duplicate delivery: the run that has the work. */
      readonly duplicateOf?: string;
      readonly error?: SerializedError;
      /** Worth an SNS message: the first refusal after a change limit trips (once per trip, not per finding). */
      readonly notify?: boolean;
    };

/** Source 1, the finding: Riposte's own update coming back, or a finding already closed, is not acted on by any playbook. */
export async function guardFinding(finding: Finding, ledger: RunLedger): Promise<GuardDecision<object, 'own-update' | 'closed'>> {
  // Riposte knows its own notes by the run id they carry: one the ledger holds.
  const skip = await findingSkip(finding, async (runId) => (await ledger.getRun(runId)) !== undefined);
  return skip === undefined ? { verdict: 'go' } : { verdict: 'stop', code: skip.code, reason: skip.reason };
}

/** Source 2, the mode: off, plan or enforce, from the trigger, the deployment and the playbook. Nothing is recorded for `off`. */
export function guardMode(services: PipelineServices, finding: Finding, playbook: Playbook, dryRun?: boolean): GuardDecision<{ readonly mode: RunMode; readonly modeReason: string }, 'off'> {
  const decision = decideMode(finding, playbook, services.settings.automatic, dryRun);
  if (decision.mode === 'off') return { verdict: 'stop', code: 'off', reason: decision.reason };
  return { verdict: 'go', mode: decision.mode, modeReason: decision.reason };
}

/**
 * Source 3, idempotency: whether another run already has this work. A run
 * let through owns it (`runId` holds the claim) — as the retry of a failed
 * or abandoned run, when there was one. Nothing is recorded for a duplicate.
 */
export async function guardIdempotency(
  services: PipelineServices,
  finding: Finding,
  run: { readonly playbookId: string; readonly mode: RunMode; readonly runId: string; readonly now: Date; readonly deliveryId?: string },
  logger: RunLogger,
): Promise<GuardDecision<{ readonly retryOf?: RunRecord; readonly supersedes?: string }, 'duplicate'>> {
  const claim = await claimWork(services.ledger, services.settings, { finding, ...run }, logger);
  if (!claim.claimed) return { verdict: 'stop', code: 'duplicate', reason: claim.summary, duplicateOf: claim.duplicateOf };
  return { verdict: 'go', ...(claim.retryOf === undefined ? {} : { retryOf: claim.retryOf }), ...(claim.supersedes === undefined ? {} : { supersedes: claim.supersedes }) };
}

/**
 * Resolves every target of the playbook's steps, live, once: what the
 * guards, the plan and the actions then use (kept in the run's record).
 * An exempt or excluded account is never read: `undefined`, and the
 * exemption guard stops the run.
 */
export async function resolveRun(services: PipelineServices, finding: Finding, playbook: Playbook, run: { readonly correlationId: string; readonly now: Date }): Promise<RunTargets | undefined> {
  if (accountExemption(playbook.exempt.accounts, services.settings.excludedAccounts, finding.account, run.now).exempt) return undefined;
  const actions = actionsIn(services.registry, playbook);
  const target = memberTarget(finding, run.correlationId);
  // The reads no step's target decides go beside the resolution (ActionBehaviour.prefetch): the plans find them answered.
  // A prefetch that fails leaves nothing behind; the plan asks again and meets the error itself.
  const prefetched = Promise.allSettled(actions.flatMap((action) => (action.behaviour.prefetch === undefined ? [] : [action.behaviour.prefetch({ clients: services.clients, target })])));
  const [targets] = await Promise.all([resolveTargets(finding, actions, memberLiveView(services.clients, target)), prefetched]);
  return targets;
}

/** The action behind each of the playbook's steps, by index. */
export function actionsIn(registry: ActionRegistry, playbook: Playbook): ReturnType<ActionRegistry['get']>[] {
  return playbook.steps.map((step) => registry.get(step.action));
}

/**
 * Source 4, exemptions: the account (excluded by the deployment, exempt
 * from the playbook), then the run's resolved targets. A target the
 * finding disagrees with itself about (`target-disputed`), one AWS no
 * longer shows (`target-stale`) or one whose tags could not be read
 * (`tags-unreadable`: an exemption that cannot be checked is honoured)
 * stops the run; so does any target tagged exempt, as read live.
 */
export function guardRun(
  context: RunContext,
  playbook: CompiledPlaybook,
  now: Date,
): GuardDecision<object, 'account-exempt' | 'resource-exempt' | 'tags-unreadable' | 'target-disputed' | 'target-stale'> {
  const { services, finding, logger, targets } = context;
  const account = accountExemption(playbook.playbook.exempt.accounts, services.settings.excludedAccounts, finding.account, now);
  if (account.exempt) return { verdict: 'stop', code: 'account-exempt', reason: account.reason };
  if (targets === undefined) {
    return { verdict: 'stop', code: 'tags-unreadable', reason: `the targets of run ${context.writer.runId} were not resolved, so no exemption can be checked: nothing changed` };
  }

  // A refusal (disputed, stale, unreadable) of any target stops the run: nothing changes anywhere.
  for (const resolution of targets) {
    if (resolution.status === 'resolved') continue;
    const log = resolution.code === 'tags-unreadable' ? logger.warn.bind(logger) : logger.info.bind(logger);
    log('target refused: nothing changes', { resource: resolution.resource, code: resolution.code, reason: resolution.reason });
    return { verdict: 'stop', code: resolution.code, reason: resolution.reason, ...(resolution.error === undefined ? {} : { error: resolution.error }) };
  }
  const exemptTags = { ...services.settings.exemptTags, ...playbook.playbook.exempt.tags };
  for (const resolution of targets) {
    if (resolution.status !== 'resolved') continue;
    const { target } = resolution;
    for (const note of resolution.stale ?? []) logger.info('the finding is stale: acting on what AWS shows now', { resource: resourceKey(target), note });
    if (target.tags.kind !== 'tags') continue;
    const decision = resourceExemption(exemptTags, target.tags.tags, now);
    if (decision.exempt) return { verdict: 'stop', code: 'resource-exempt', reason: `${resourceKey(target)}: ${decision.reason}` };
    if (decision.reason !== undefined) logger.info('exemption no longer protects', { resource: resourceKey(target), reason: decision.reason });
  }
  return { verdict: 'go' };
}

/**
 * Source 5, the change limit (`limits.maxResourcesPerHour`): a plan that
 * would change a resource takes one of the playbook's slots for the hour,
 * atomically across every Lambda. Once the limit is reached the playbook
 * stops changing anything until the hour passes, and the first refusal of
 * a trip says so by SNS.
 */
export async function guardChanges(context: RunContext, playbook: Playbook, plan: Plan, now: Date): Promise<GuardDecision<object, 'limit-reached'>> {
  const { services, logger } = context;
  const runId = context.writer.runId;
  const limits = playbook.limits;
  if (limits === undefined || !plan.changesResources) return { verdict: 'go' };
  const primary = context.targets === undefined ? undefined : primaryTarget(context.targets);
  // guardRun let the run through, so its targets are resolved; a run without one changes nothing.
  if (primary?.status !== 'resolved') return { verdict: 'stop', code: 'limit-reached', reason: `run ${runId} has no resolved target to count against limits.maxResourcesPerHour: nothing changed` };
  const key = resourceKey(primary.target);
  const reservation = await services.ledger.reserveChange(playbook.id, key, limits.maxResourcesPerHour, LIMIT_WINDOW_SECONDS, now);
  if (reservation.allowed) return { verdict: 'go' };
  // Notify once per trip, not once per refused finding: a fleet-wide storm would otherwise be a storm of messages too.
  const first = await services.ledger.claim(`limit-tripped|${playbook.id}`, runId, LIMIT_WINDOW_SECONDS, now);
  logger.error('change limit reached: playbook stopped', { resource: key, limit: reservation.limit, used: reservation.used });
  return {
    verdict: 'stop',
    code: 'limit-reached',
    reason: `playbook ${playbook.id} has changed ${reservation.used} resources in the last hour, its limit (limits.maxResourcesPerHour: ${reservation.limit}): ${key} was not changed. Circuit breaker open until the hour passes; check the playbook`,
    notify: first.claimed,
  };
}
