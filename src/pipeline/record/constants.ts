/** Riposte's note text, before its `[riposte run … playbook …]` header, stays within this (Security Hub allows 512 in all). */
export const NOTE_TEXT_MAX = 450;

/** `Source` of Riposte's result events, unless the deployment chooses another. */
export const RESULT_EVENT_SOURCE = 'riposte';
/** `DetailType` of Riposte's result events; rules match on it. */
export const RESULT_EVENT_DETAIL_TYPE = 'Riposte Remediation Result';
/** EventBridge's limit on one PutEvents entry (and on the whole request). */
export const EVENT_MAX_BYTES = 256 * 1024;

/** SNS's limit on a message body. */
export const SNS_MESSAGE_MAX_BYTES = 256 * 1024;

/** SQS's longest per-message delay (15 minutes). */
export const SQS_MAX_DELAY_SECONDS = 900;
/** `kind` of every resume request: what tells a resume message from anything else on the queue. */
export const RESUME_REQUEST_KIND = 'riposte.resume';

/** `kind` of every record-retry request: what tells one from anything else on the queue. */
export const RECORD_RETRY_REQUEST_KIND = 'riposte.record-retry';
/** How long a failed finding update waits before its first retry, unless the deployment says otherwise. */
export const DEFAULT_RECORD_RETRY_DELAY_SECONDS = 60;
/**
 * Attempts (the run's own included) after which a finding Security Hub still
 * does not hold is given up as `failed`: an update can precede the import's
 * visibility by a little, never by many retries.
 */
export const DEFAULT_RECORD_RETRY_MAX_ATTEMPTS = 6;
