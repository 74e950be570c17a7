export {
  EVENT_MAX_BYTES,
  NOTE_TEXT_MAX,
  RESULT_EVENT_DETAIL_TYPE,
  RESULT_EVENT_SOURCE,
  RESUME_REQUEST_KIND,
  SNS_MESSAGE_MAX_BYTES,
  SQS_MAX_DELAY_SECONDS,
} from './constants.js';
export { InvalidResumeRequestError, NotificationPublishError, ResultEventError, ResultEventTooLargeError, ResumeQueueError } from './errors.js';
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
export { AwsRunRecorder } from './recorder.js';
export type { AwsRunRecorderOptions, RecordingItem, RecordingReport, RecordOptions, RunRecorder } from './recorder.js';
