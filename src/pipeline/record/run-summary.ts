import type { Finding } from '../../intake/index.js';
import type { RunRecord, StepRecord } from '../../ledger/index.js';
import { NOTE_TEXT_MAX } from './constants.js';

/**
 * The plain-JSON description of a finished (or in-progress) run that every
 * recorder uses: the Security Hub note, the SNS message and the result event
 * are all made from it, so they never disagree.
 */
export interface RunSummary {
  runId: string;
  correlationId: string;
  playbookId: string;
  playbookTitle?: string;
  finding: { id: string; title: string; severity: string; product: string; account: string; region: string; resources: { type: string; id: string }[] };
  trigger: 'automatic' | 'custom-action' | 'api';
  mode: 'enforce' | 'plan';
  /** The run's status: succeeded | failed | skipped | in-progress | rolled-back. */
  status: string;
  workflowStatus?: 'RESOLVED' | 'NOTIFIED';
  /** One line: what happened. */
  summary: string;
  steps: { index: number; action: string; phase: string; status: string; summary: string; changes?: { field: string; from: unknown; to: unknown }[] }[];
  /** ISO 8601. */
  at: string;
}

export type RunSummaryStep = RunSummary['steps'][number];
export type RunSummaryChange = NonNullable<RunSummaryStep['changes']>[number];

const WORKFLOW_STATUSES = new Set(['RESOLVED', 'NOTIFIED']);

/**
 * The summary of a run from its parts: the finding, the step records so far,
 * and what the run is (`at`: when the summary was taken).
 */
export function summarizeRun(finding: Finding, steps: readonly StepRecord[], run: Omit<RunSummary, 'finding' | 'steps' | 'at'>, at: string): RunSummary {
  return {
    ...run,
    finding: {
      id: finding.id,
      title: finding.title,
      severity: finding.severity.label,
      product: finding.product.name,
      account: finding.account,
      region: finding.region,
      resources: finding.resources.map((resource) => ({ type: resource.type, id: resource.id })),
    },
    steps: steps.map((step) => ({
      index: step.index,
      action: step.action,
      phase: step.phase,
      status: step.status,
      summary: step.summary,
      ...(step.changes.length === 0 ? {} : { changes: step.changes.map((change) => ({ field: change.field, from: change.from, to: change.to })) }),
    })),
    at,
  };
}

/**
 * A run record and the finding it acted on, as a {@link RunSummary}. A run
 * still `started` is reported as `in-progress`.
 */
export function runSummaryOf(run: RunRecord, finding: Finding, playbookTitle?: string): RunSummary {
  const workflow = run.outcome?.workflowStatus;
  const status = run.status === 'started' ? 'in-progress' : run.status;
  return summarizeRun(
    finding,
    run.steps,
    {
      runId: run.runId,
      correlationId: run.correlationId,
      playbookId: run.playbookId,
      ...(playbookTitle === undefined ? {} : { playbookTitle }),
      trigger: run.trigger,
      mode: run.mode,
      status,
      ...(workflow !== undefined && WORKFLOW_STATUSES.has(workflow) ? { workflowStatus: workflow as 'RESOLVED' | 'NOTIFIED' } : {}),
      summary: run.outcome?.summary ?? status,
    },
    run.updatedAt,
  );
}

/** `text`, cut to `max` characters with an ellipsis (never inside a surrogate pair). */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

/** A value as a note shows it: short, unquoted where that is unambiguous. */
function shortValue(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  if (typeof value === 'string') return clip(value === '' ? '""' : value, 40);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // Steps record plain JSON; a value JSON cannot write (a function) is shown by its kind.
  return clip(JSON.stringify(value) ?? typeof value, 40);
}

const changeText = (changes: readonly RunSummaryChange[]): string => changes.map((change) => `${change.field} ${shortValue(change.from)}→${shortValue(change.to)}`).join(', ');

/** The last record of each step in one phase, in step order (a resumed step appears more than once). */
function latest(steps: readonly RunSummaryStep[], phase: string): RunSummaryStep[] {
  const byIndex = new Map<number, RunSummaryStep>();
  for (const step of steps) if (step.phase === phase) byIndex.set(step.index, step);
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

function planText(summary: RunSummary): string {
  const parts = latest(summary.steps, 'plan').map((step) => {
    if (step.status === 'compliant') return `${step.action} already compliant`;
    if (step.status === 'skipped') return `${step.action} skipped`;
    if (step.status === 'failed') return `${step.action} could not plan: ${step.summary}`;
    return step.changes !== undefined && step.changes.length > 0 ? `would change ${step.action} ${changeText(step.changes)}` : `would run ${step.action}: ${step.summary}`;
  });
  return `PLAN (nothing changed): ${parts.length === 0 ? summary.summary : parts.join('; ')}`;
}

const STATUS_WORDS: Readonly<Record<string, string>> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  skipped: 'SKIPPED',
  'in-progress': 'IN PROGRESS',
  'rolled-back': 'ROLLED BACK',
};

function outcomeText(summary: RunSummary): string {
  const head = summary.status === 'succeeded' && summary.workflowStatus !== undefined ? summary.workflowStatus : (STATUS_WORDS[summary.status] ?? summary.status.toUpperCase());
  // What failed comes first: the note is cut at Security Hub's 512 characters, and the analyst reading the finding must see why it failed.
  const runs = latest(summary.steps, 'run').sort((a, b) => Number(b.status === 'failed') - Number(a.status === 'failed'));
  const parts = runs.map((step) => {
    if (step.status === 'changed') return step.changes !== undefined && step.changes.length > 0 ? `${step.action} changed ${changeText(step.changes)}` : `${step.action}: ${step.summary}`;
    if (step.status === 'compliant') return `${step.action} already compliant`;
    if (step.status === 'in-progress') return `${step.action} in progress: ${step.summary}`;
    if (step.status === 'failed') return `${step.action} failed: ${step.summary}`;
    return `${step.action} skipped`;
  });
  const verified = latest(summary.steps, 'verify');
  if (verified.length > 0) {
    const unverified = verified.filter((step) => step.status !== 'compliant');
    parts.push(unverified.length === 0 ? 'verified' : `not verified: ${unverified.map((step) => `${step.action}: ${step.summary}`).join('; ')}`);
  }
  const rolledBack = latest(summary.steps, 'rollback');
  if (rolledBack.length > 0) {
    parts.push(rolledBack.map((step) => (step.status === 'failed' ? `rollback of ${step.action} failed: ${step.summary}` : `${step.action} rolled back`)).join('; '));
  }
  // A run can fail or be skipped before any step (a guard, a limit): then the run's own summary is the news.
  const explained = runs.some((step) => step.status === 'failed' || step.status === 'in-progress');
  if (parts.length === 0 || ((summary.status === 'failed' || summary.status === 'skipped') && !explained)) parts.unshift(summary.summary);
  return `${head}: ${parts.join('; ')}`;
}

/**
 * The compact text of Riposte's note on the finding (the note header is
 * added by the writer): the outcome and what changed, at most 450
 * characters.
 *
 * `RESOLVED: iam.set-password-policy changed MinimumPasswordLength 8→14; verified`
 * `PLAN (nothing changed): would change iam.set-password-policy MinimumPasswordLength 8→14`
 */
export function summaryNoteText(summary: RunSummary): string {
  return clip(summary.mode === 'plan' ? planText(summary) : outcomeText(summary), NOTE_TEXT_MAX);
}
