import type { ActionRegistry, HostingServices } from '../actions/index.js';
import type { MemberClients } from '../aws/index.js';
import type { AutomaticMode, RunSettings } from '../config.js';
import type { ConditionOutcome, Matcher } from '../engine/index.js';
import type { SerializedError } from '../errors.js';
import type { RunLedger, RunMode, StepRecord } from '../ledger/index.js';
import type { CompiledPlaybook } from '../playbooks/index.js';
import type { RunLogger } from '../log/index.js';
import type { RecordingReport, ResumeQueue, RunRecorder, RunRecordStatus } from './record/index.js';

/** The settings the pipeline runs under (from `loadConfig`, or chosen by a test or the CLI). */
export interface PipelineSettings extends RunSettings {
  /** How automatic deliveries run: `off`, `plan` (the default) or `enforce`. */
  readonly automatic: AutomaticMode;
  /** A run not updated for this long while not finished is taken to have died (its Lambda timed out): a redelivery retries it. */
  readonly staleRunSeconds: number;
}

export const DEFAULT_PIPELINE_SETTINGS: PipelineSettings = Object.freeze({
  automatic: 'plan',
  excludedAccounts: [],
  exemptTags: { 'riposte:exempt': 'true' },
  idempotencyWindowSeconds: 24 * 3600,
  apiIdempotencyWindowSeconds: 300,
  concurrency: 8,
  maxResumes: 12,
  staleRunSeconds: 1800,
});

/** Everything the pipeline talks to; handlers, the CLI and tests each build one. */
export interface PipelineServices {
  readonly settings: PipelineSettings;
  readonly playbooks: readonly CompiledPlaybook[];
  readonly matcher: Matcher;
  readonly registry: ActionRegistry;
  readonly ledger: RunLedger;
  /** Clients in member accounts, through AssumeRole. */
  readonly clients: MemberClients;
  /** Riposte's own account: evidence bucket, SNS topic. */
  readonly hosting: HostingServices;
  /** Finding note, SNS, result event. */
  readonly recorder: RunRecorder;
  readonly resumeQueue: ResumeQueue;
  readonly logger: RunLogger;
  readonly clock?: () => Date;
}

/** Per-call options. */
export interface PipelineOptions {
  /** The id every log line and run of this delivery carries (a Lambda request id, an API request id); a fresh one by default. */
  readonly correlationId?: string;
  /** Plan only, whatever the trigger and deployment say (the CLI's `plan`). */
  readonly dryRun?: boolean;
  /** The queue message that brought the event (an SQS message id), kept on each run it starts: see `RunRecord.deliveryId`. */
  readonly deliveryId?: string;
  /** Milliseconds the caller has left (a Lambda's `getRemainingTimeInMillis`): runs stop between steps and resume later rather than be cut off. */
  readonly remainingTimeMs?: () => number;
}

/**
 * Why a playbook did not act on a finding's resource: an exempt account or
 * resource, tags that could not be read, a change limit reached, a finding
 * whose own fields disagree about the resource (`target-disputed`), or one
 * that names a resource AWS no longer shows (`target-stale`).
 */
export type GuardCode = 'account-exempt' | 'resource-exempt' | 'tags-unreadable' | 'limit-reached' | 'target-disputed' | 'target-stale';

/** What happened when one playbook met one finding. */
export interface PlaybookRunResult {
  readonly playbookId: string;
  /** Absent when no run was recorded (automatic remediation off, or a duplicate delivery). */
  readonly runId?: string;
  readonly status: 'succeeded' | 'failed' | 'skipped' | 'in-progress' | 'duplicate' | 'off';
  readonly mode: RunMode | 'off';
  /** Why this mode: the trigger, the deployment setting, the playbook. */
  readonly modeReason: string;
  /** The conditions that made the playbook match, with the values they saw. */
  readonly matched: readonly ConditionOutcome[];
  /** One line: what happened. */
  readonly summary: string;
  readonly guard?: { readonly code: GuardCode; readonly reason: string };
  /** This run's step records: plans, changes, verifications, in order. */
  readonly steps: readonly StepRecord[];
  /**
   * The workflow status set on the finding, when the run changed something
   * (for a finding Security Hub does not hold, the status the run reached).
   * Absent while Security Hub has not taken it: see `record`.
   */
  readonly workflowStatus?: 'RESOLVED' | 'NOTIFIED';
  /** For a duplicate delivery: the run that already handled it. */
  readonly duplicateOf?: string;
  /** For an in-progress run: when it will be looked at again. */
  readonly resume?: { readonly delaySeconds: number };
  readonly recording?: RecordingReport;
  /**
   * Whether the finding carries the run's note and workflow (`done`,
   * `pending-retry`, `failed`, `skipped`): apart from `status`, which says
   * whether the run fixed and verified anything.
   */
  readonly record?: RunRecordStatus;
  readonly error?: SerializedError;
}

/** What happened to one finding of an event. */
export interface FindingResult {
  readonly findingId: string;
  readonly account: string;
  readonly region: string;
  readonly title: string;
  /** Set when the finding was not considered at all (Riposte's own update, a closed finding), with why. */
  readonly skipped?: { readonly code: 'own-update' | 'closed'; readonly reason: string };
  readonly runs: readonly PlaybookRunResult[];
  /** Set when matching the finding failed, or an on-demand request was refused (src/pipeline/on-demand.ts): no playbook ran. */
  readonly error?: SerializedError;
}

/** What the pipeline made of one delivery. */
export interface PipelineResult {
  readonly correlationId: string;
  readonly findings: readonly FindingResult[];
  /** Findings of the event intake could not read (the rest were handled). */
  readonly rejected: readonly SerializedError[];
  /** Set when the event as a whole could not be read. */
  readonly error?: SerializedError;
}
