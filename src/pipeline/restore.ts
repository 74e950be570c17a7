import type { Finding, RawFinding } from '../intake/index.js';
import type { RunRecord } from '../ledger/index.js';
import type { CompiledPlaybook } from '../playbooks/index.js';
import { RunNotResumableError, StoredFindingInvalidError } from './errors.js';
import { restorePlan } from './plan.js';
import type { ExecutingRun, RunContext, VerifyingRun } from './run-state.js';
import { latestByIndex } from './step-record.js';

/**
 * The finding as a run record keeps it: everything but the raw copy, which
 * the record already holds as `receivedEvent` (an event may be close to
 * EventBridge's 256 KB; storing it twice would crowd DynamoDB's 400 KB item).
 */
export function storedFinding(finding: Finding): Omit<Finding, 'raw'> {
  const { raw: _raw, ...rest } = finding;
  return rest;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The finding a resumed or rolled-back run acts on, rebuilt from its record.
 * @throws StoredFindingInvalidError when a field every stage relies on is missing.
 */
export function restoreFinding(record: RunRecord): Finding {
  const stored = record.finding;
  if (!isObject(stored)) throw new StoredFindingInvalidError(record.runId, 'finding');
  for (const field of ['id', 'account', 'region', 'partition'] as const) {
    if (typeof stored[field] !== 'string') throw new StoredFindingInvalidError(record.runId, `finding.${field}`);
  }
  if (!Array.isArray(stored.resources)) throw new StoredFindingInvalidError(record.runId, 'finding.resources');
  if (!isObject(stored.trigger)) throw new StoredFindingInvalidError(record.runId, 'finding.trigger');
  return { ...(stored as unknown as Omit<Finding, 'raw'>), raw: record.receivedEvent as RawFinding };
}

/**
 * A run saved part-way, as the stage it resumes at: a paused (or, if its
 * worker died, still executing) run carries on with its next step; a run
 * that was verifying verifies again. The plan is rebuilt from the plan
 * records, and each step's latest run record says what it did.
 *
 * @throws RunNotResumableError for a run in any other stage.
 */
export function restoreRun(context: RunContext, playbook: CompiledPlaybook): ExecutingRun | VerifyingRun {
  const { writer } = context;
  const state = writer.record.state;
  const plan = restorePlan(context, playbook, latestByIndex(writer.record.steps, 'plan'));
  const results = latestByIndex(writer.record.steps, 'run');
  switch (state.stage) {
    // The run moves on from `paused` with the record of the step it resumes (see the lifecycle in src/ledger/run-state.ts).
    case 'paused':
    case 'executing':
      return { stage: 'executing', context, plan, results };
    case 'verifying':
      return { stage: 'verifying', context, plan, results };
    default:
      throw new RunNotResumableError(writer.runId, state.stage);
  }
}
