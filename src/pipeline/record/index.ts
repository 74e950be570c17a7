export {
  DEFAULT_RECORD_RETRY_DELAY_SECONDS,
  DEFAULT_RECORD_RETRY_MAX_ATTEMPTS,
  EVENT_MAX_BYTES,
  NOTE_TEXT_MAX,
  RECORD_RETRY_REQUEST_KIND,
  RESULT_EVENT_DETAIL_TYPE,
  RESULT_EVENT_SOURCE,
  RESUME_REQUEST_KIND,
  SNS_MESSAGE_MAX_BYTES,
  SQS_MAX_DELAY_SECONDS,
} from './constants.js';
export { InvalidRecordRetryRequestError, InvalidResumeRequestError, NotificationPublishError, RecordRetryQueueError, ResultEventError, ResultEventTooLargeError, ResumeQueueError } from './errors.js';
export { fitSummary } from './fit-summary.js';
export type { TruncatedRunSummary } from './fit-summary.js';
export { publishNotification, runNotification } from './notification.js';
export { eventEntryBytes, publishResultEvent, resultEventEntry } from './result-event.js';
export type { ResultEventDetail, ResultEventTarget } from './result-event.js';
export { clampDelaySeconds, MemoryResumeQueue, readResumeRequests, resumeRequestSchema, SqsResumeQueue } from './resume-queue.js';
export type { ReceivedResumeRequest, ResumeQueue, ResumeRequest, ScheduledResume } from './resume-queue.js';
export { runSummaryOf, summarizeRun, summaryNoteText } from './run-summary.js';
export type { RunSummary, RunSummaryChange, RunSummaryStep } from './run-summary.js';
export { recordOnFinding } from './security-hub-record.js';
export type { FindingRecord, FindingRecordResult } from './security-hub-record.js';
export { AwsRunRecorder, runRecordStatus } from './recorder.js';
export type { AwsRunRecorderOptions, RecordingItem, RecordingReport, RecordOptions, RecordRetrySettings, RunRecorder } from './recorder.js';
export {
  findingRecordStatus,
  MemoryRecordRetryQueue,
  readRecordRetryRequest,
  recordRetryRequestSchema,
  retryFindingRecord,
  settledRecordStatus,
  SqsRecordRetryQueue,
  worthRetrying,
} from './record-retry.js';
export type { RecordRetryOptions, RecordRetryOutcome, RecordRetryQueue, RecordRetryRequest } from './record-retry.js';
export { recordStatusRunId, SECURITY_HUB_RECORD_STATUSES } from './record-status.js';
export type { RunRecordStatus, SecurityHubRecordStatus } from './record-status.js';
