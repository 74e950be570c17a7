import type { SerializedError } from '../errors.js';
import type { ListedRun, RunRecord, RunTransition, StepChange, StepRecord } from '../ledger/index.js';
import type { RecordingItem, RunRecordStatus } from '../pipeline/index.js';
import { terminalLines } from './format.js';

/*
 * What `riposte runs` prints. A run record holds what the pipeline wrote as
 * plain JSON (its stored finding, its outcome's details), typed `unknown` by
 * the ledger: everything read from those is checked here before use, and a
 * part the record does not hold is said to be missing rather than guessed.
 * Every line goes through `terminalLines`: ids, titles, principals, reasons
 * and summaries come from findings and requests anyone could write.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
/** A value as one line: strings as they are, anything else as compact JSON. */
const shown = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));

/** The header of `riposte runs`' listing; the columns line up with {@link listLine}. */
const LIST_COLUMNS = ['RUN', 'STARTED', 'PLAYBOOK', 'FINDING', 'WHERE', 'MODE', 'STATUS'] as const;

/** One run as a listing line: id, started, playbook, finding, account/region, mode, status. */
function listCells(run: ListedRun): string[] {
  return [run.runId, run.createdAt, run.playbookId, run.findingId, `${run.account}/${run.region}`, run.mode, run.status];
}

/**
 * The runs as a table, one line each, in the order given (the ledger's:
 * newest first). Columns are as wide as their widest cell, so a responder
 * can read down a column; the finding id, the widest, comes last but two.
 */
export function describeRunList(runs: readonly ListedRun[]): string {
  if (runs.length === 0) return 'no runs';
  const rows = [[...LIST_COLUMNS], ...runs.map(listCells)];
  const widths = LIST_COLUMNS.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return terminalLines(rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')));
}

/** How the run was asked for, from the finding it stored (its trigger) or, for a rollback, from the request it received. */
function triggerLines(run: RunRecord): string[] {
  if (run.rollbackOf !== undefined) {
    const request = isObject(run.receivedEvent) ? run.receivedEvent : {};
    const by = text(request.requestedBy);
    const reason = text(request.reason);
    return [`trigger    rollback of run ${run.rollbackOf}${by === undefined ? '' : `, requested by ${by}`}${reason === undefined ? '' : `: "${reason}"`}`];
  }
  const trigger = isObject(run.finding) && isObject(run.finding.trigger) ? run.finding.trigger : undefined;
  if (trigger?.kind === 'custom-action') {
    const name = text(trigger.actionName);
    return [`trigger    custom action ${shown(trigger.actionId)}${name === undefined ? '' : ` ("${name}")`}${text(trigger.actionArn) === undefined ? '' : ` ${shown(trigger.actionArn)}`}`];
  }
  if (trigger?.kind === 'api') {
    const requester = isObject(trigger.requestedBy) ? trigger.requestedBy : {};
    const from = [text(requester.sourceIp), text(requester.userAgent)].filter((part) => part !== undefined);
    const reason = text(trigger.reason);
    return [
      `trigger    API request ${shown(trigger.requestId)} by ${text(requester.principal) ?? '(unknown principal)'}${from.length === 0 ? '' : ` (${from.join(', ')})`}${trigger.dryRun === true ? ', dry run' : ''}`,
      ...(reason === undefined ? [] : [`  reason   "${reason}"`]),
    ];
  }
  if (trigger?.kind === 'automatic') return ['trigger    automatic (the finding’s own event)'];
  return [`trigger    ${run.trigger}`];
}

/** The finding the run acted on, as the run stored it. */
function findingLines(run: RunRecord): string[] {
  const finding = isObject(run.finding) ? run.finding : undefined;
  const title = text(finding?.title);
  const product = isObject(finding?.product) ? text(finding.product.name) : undefined;
  const lines = [`finding    ${run.findingId}`];
  if (title !== undefined) lines.push(`  title    ${title}${product === undefined ? '' : ` (${product})`}`);
  if (run.findingUpdatedAt !== undefined) lines.push(`  version  updated ${run.findingUpdatedAt}`);
  return lines;
}

function changeLine(change: StepChange): string {
  return `${change.field}: ${shown(change.from)} -> ${shown(change.to)}`;
}

function errorText(error: SerializedError): string {
  return `${error.name}${error.code === 'UNEXPECTED' || error.code === undefined ? '' : ` (${error.code})`}: ${error.message}`;
}

/** A step record: what it did, what it changed, what that replaced, its evidence and error. */
function stepLines(step: StepRecord): string[] {
  const head = `${step.phase.padEnd(8)} step ${step.index + 1} ${step.action}: ${step.status} — ${step.summary}`;
  const lines = [head];
  if (step.carriedFromRunId !== undefined) lines.push(`    carried over from run ${step.carriedFromRunId}`);
  for (const change of step.changes) lines.push(`    ${step.phase === 'plan' ? 'would change' : 'changed'} ${changeLine(change)}`);
  if (step.undo !== undefined) lines.push(`    replaced ${shown(step.undo)}`);
  for (const evidence of step.evidence ?? []) lines.push(`    evidence ${evidence.key} sha256 ${evidence.sha256}`);
  if (step.inProgress !== undefined) lines.push(`    still running: ${step.inProgress.detail} (look again after ${step.inProgress.checkAfterSeconds} s)`);
  if (step.error !== undefined) lines.push(`    error ${errorText(step.error)}`);
  return lines;
}

function stateLine(transition: RunTransition): string {
  const { state } = transition;
  switch (state.stage) {
    case 'executing':
      return `stage    executing step ${state.step + 1}`;
    case 'paused':
      return `stage    paused at step ${state.step + 1} (resume ${state.resumes}, after ${state.resumeAfterSeconds} s)`;
    case 'rolling-back':
      return `stage    rolling back run ${state.of}`;
    default:
      return `stage    ${state.stage}`;
  }
}

/**
 * The run's history and step records in the order they happened: a step
 * record is written with (or just before) the move it causes, so at the
 * same instant a step comes before the stage it leads to.
 */
function eventLines(run: RunRecord): string[] {
  const events = [
    ...run.history.map((transition, order) => ({ at: transition.at, rank: 1, order, lines: [stateLine(transition)] })),
    ...run.steps.map((step, order) => ({ at: step.at, rank: 0, order, lines: stepLines(step) })),
  ].sort((a, b) => a.at.localeCompare(b.at) || a.rank - b.rank || a.order - b.order);
  return events.flatMap((event) => event.lines.map((line, index) => `${index === 0 ? event.at : ' '.repeat(event.at.length)}  ${line}`));
}

function recordingLine(kind: string, item: unknown): string | undefined {
  if (!isObject(item) || typeof item.status !== 'string') return undefined;
  const recorded = item as unknown as RecordingItem;
  return `${kind.padEnd(13)}${recorded.status === 'failed' ? `failed: ${errorText(recorded.error)}${recorded.retry === undefined ? '' : ` (retry in ${recorded.retry.delaySeconds} s)`}` : `${recorded.status}: ${recorded.detail}`}`;
}

function findingUpdateLine(status: RunRecordStatus, asRunEnded: unknown): string {
  const workflow = status.workflow === undefined ? '' : `, workflow ${status.workflow}`;
  const attempts = `${status.attempts} attempt${status.attempts === 1 ? '' : 's'}`;
  // The run's own record says how it ended; a record retry may have settled it since.
  const later = isObject(asRunEnded) && JSON.stringify(asRunEnded) !== JSON.stringify(status) ? `, settled later by a record retry (the run ended with ${shown(asRunEnded.securityHub)})` : '';
  return `finding update ${status.securityHub}: ${status.detail}${workflow} (${attempts}, at ${status.at}${later})${status.error === undefined ? '' : `; ${errorText(status.error)}`}`;
}

/** Why the playbook matched, as the run recorded it (runs recorded before it was kept, and rollbacks, say so). */
function matchedLines(run: RunRecord): string[] {
  if (run.rollbackOf !== undefined) return [`matched    (a rollback: it runs on request, of run ${run.rollbackOf})`];
  if (run.matched === undefined) return ['matched    (not recorded for this run; riposte plan --event shows it for the finding’s event)'];
  if (run.matched.length === 0) return ['matched    (the playbook has no conditions: an on-demand request names its instance)'];
  return run.matched.map(
    (condition, index) => `${index === 0 ? 'matched    ' : '           '}${condition.fact} ${condition.operator} ${JSON.stringify(condition.value)} (was ${JSON.stringify(condition.factValue)})`,
  );
}

/**
 * One run as a timeline a responder can attach to a ticket: where and on
 * what it ran, how it was asked for, why its playbook matched (when the
 * record says), every stage and step record in time order (what each step
 * changed, what that replaced, its evidence with digests, the verification),
 * the finding update and the notification, and how the run ended.
 *
 * @param findingUpdate where the finding's note and workflow stand (a record retry may have settled it after the run ended), as the API's `GET /runs/{id}` reads it.
 */
export function describeTimeline(run: RunRecord, findingUpdate: RunRecordStatus | undefined): string {
  const details = isObject(run.outcome?.details) ? run.outcome.details : {};
  const recording = isObject(details.recording) ? details.recording : {};
  const lines = [
    `run        ${run.runId}: ${run.status}`,
    `playbook   ${run.playbookId}`,
    ...findingLines(run),
    `where      account ${run.account}, ${run.region}`,
    `mode       ${run.mode}${run.attempt === undefined ? '' : `, attempt ${run.attempt}`}${run.retryOf === undefined ? '' : ` (retries run ${run.retryOf})`}${run.resumes === undefined || run.resumes === 0 ? '' : `, resumed ${run.resumes} times`}`,
    `correlation ${run.correlationId}`,
    ...triggerLines(run),
    ...matchedLines(run),
    '',
    ...eventLines(run),
    '',
  ];
  if (isObject(details.guard)) lines.push(`guard        ${shown(details.guard.code)}: ${shown(details.guard.reason)}`);
  if (findingUpdate !== undefined) lines.push(findingUpdateLine(findingUpdate, details.record));
  for (const [kind, label] of [
    ['note', 'note'],
    ['notification', 'notification'],
    ['event', 'result event'],
  ] as const) {
    const line = recordingLine(label, recording[kind]);
    if (line !== undefined) lines.push(line);
  }
  if (run.outcome === undefined) {
    lines.push(`outcome    not ended yet (${run.state.stage}, updated ${run.updatedAt})`);
  } else {
    lines.push(`outcome    ${run.status}${run.outcome.workflowStatus === undefined ? '' : `, workflow ${run.outcome.workflowStatus}`}: ${run.outcome.summary} (${run.updatedAt})`);
    if (run.outcome.error !== undefined) lines.push(`  error    ${errorText(run.outcome.error)}`);
  }
  return terminalLines(lines);
}
