// The Lambda side of Riposte: what each function does with what the runtime hands it, and the cold start they
// share. handlers/ holds one line per function over this module.
export { apiHandler, handleApiRequest, publicRun, callerOf, API_MAX_BODY_BYTES, API_TIME_BUDGET_MS, ApiErrorCode } from './api.js';
export type { ApiErrorBody, ApiRunView } from './api.js';
export { customActionHandler, handleCustomActionEvent, CUSTOM_ACTION_DETAIL_TYPE } from './custom-action.js';
export type { CustomActionOutcome } from './custom-action.js';
export { DeliveryRetryError } from './errors.js';
export { findingsHandler, handleFindingRecord } from './findings.js';
export type { RecordOutcome } from './findings.js';
export { DEFAULT_METRICS_NAMESPACE, MemoryMetricsSink, MetricCounts, PowertoolsMetricsSink, RiposteMetric } from './metrics.js';
export type { MetricPoint, MetricsSink } from './metrics.js';
export { deliveryRetryReasons, findingRetryReasons, runRetryReason } from './outcome.js';
export { containerRecordRetryRuntime, createRecordRetryRuntime, handleRecordRetryRecord, recordRetryHandler } from './record-retry.js';
export type { RecordRetryRuntime, RecordRetryRuntimeOptions } from './record-retry.js';
export { handleResumeRecord, resumeHandler } from './resume.js';
export { containerRuntime, createLambdaRuntime, packagedPlaybooks } from './runtime.js';
export type { LambdaRuntime, LambdaRuntimeOptions } from './runtime.js';
export { processSqsBatch } from './sqs-batch.js';
export { sqsRecordOf } from './sqs-record.js';
export type { RecordScope } from './sqs-batch.js';
export type { ApiGatewayIdentity, ApiGatewayProxyEvent, ApiGatewayProxyResult, EventBridgeEvent, LambdaContext, SqsBatchResponse, SqsEvent, SqsRecord } from './types.js';
