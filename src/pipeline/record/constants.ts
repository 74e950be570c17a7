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
