export { readEvent, EVENT_READERS } from './read-event.js';
export { eventOfRawFinding } from './raw-finding.js';
export type { EventReader, ReadEventOptions } from './read-event.js';
export { readApiGatewayEvent, readApiRequest, apiRequestSchema, API_DETAIL_TYPE, API_SOURCE } from './api-request.js';
export type { ApiRequest, ApiRequestOptions } from './api-request.js';
export { MAX_EVENT_BYTES, MAX_EVENT_TEXT_BYTES } from './raw-input.js';
export { describeIssue } from './field-path.js';
export { EventTooLargeError, ForbiddenKeyError, IntakeError, InvalidApiRequestError, InvalidFindingError, MalformedEventError, UnsupportedEventError } from './errors.js';
export { ComplianceStatus, FindingFormat, FindingSource, RecordState, SeverityLabel, WorkflowStatus } from './types.js';
export type {
  AccessKeyRef,
  Compliance,
  Control,
  EventEnvelope,
  Finding,
  IamRoleRef,
  IntakeResult,
  NetworkInterface,
  Note,
  ProductOwner,
  ProductRef,
  RawFinding,
  Requester,
  Resource,
  Severity,
  SeverityBasis,
  Trigger,
  TriggerKind,
} from './types.js';
