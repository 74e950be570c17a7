// The run, stage by stage (read in this order): pipeline.ts (entry points) → guard.ts → plan.ts → execute.ts
// → verify.ts → record.ts, with rollback.ts, driven by machine.ts over the states of run-state.ts.
export { Pipeline } from './pipeline.js';
export { assemblePipeline } from './assemble.js';
export type { PipelineParts } from './assemble.js';
export { DEFAULT_PIPELINE_SETTINGS } from './types.js';
export type { FindingResult, GuardCode, PipelineOptions, PipelineResult, PipelineServices, PipelineSettings, PlaybookRunResult } from './types.js';
export type { GuardDecision } from './guard.js';
export type { Plan, PlannedStep } from './run-state.js';
export {
  PlaybookNotLoadedError,
  ResourceBusyError,
  RollbackRefusedError,
  RunNotResumableError,
  RunUnknownError,
  StepTimedOutError,
  StoredFindingInvalidError,
  StoredTargetsInvalidError,
  TargetNotResolvedError,
} from './errors.js';
// Types only for now: callers compare a result's serialized error code with `OnDemandRefusedError['code']` (a value export would change the public surface test/pipeline/exports.test.ts pins).
export type { OnDemandAmbiguousError, OnDemandRefusedError, OnDemandRequestContext } from './errors.js';
export { decideMode } from './guards/mode.js';
export type { ModeDecision } from './guards/mode.js';
export { findingSkip, isOwnUpdate } from './guards/finding.js';
export type { FindingSkip, KnownRun } from './guards/finding.js';
export { accountExemption, EXEMPTION_TAGS, resourceExemption } from './guards/exemption.js';
export type { ExemptionDecision } from './guards/exemption.js';
export { claimTarget, primaryTarget, resolveTargets, resourceKey, restoreTargets } from './targets.js';
export type { RunTargets, TargetClaim, TargetRefusal, TargetResolution } from './targets.js';
export { newCorrelationId, newRunId } from './run-id.js';
export { ReplayTally, shadowPlan } from './shadow-plan.js';
export type { PlaybookReplay, ReplaySummary, ShadowFinding, ShadowPlaybook, ShadowSettings } from './shadow-plan.js';
export {
  AwsRunRecorder,
  findingRecordStatus,
  MemoryResumeQueue,
  readResumeRequests,
  RESULT_EVENT_DETAIL_TYPE,
  RESULT_EVENT_SOURCE,
  RESUME_REQUEST_KIND,
  resumeRequestSchema,
  SqsResumeQueue,
} from './record/index.js';
export type {
  AwsRunRecorderOptions,
  ReceivedResumeRequest,
  RecordingItem,
  RecordingReport,
  RecordOptions,
  ResumeQueue,
  ResumeRequest,
  RunRecorder,
  RunRecordStatus,
  RunSummary,
  ScheduledResume,
} from './record/index.js';
