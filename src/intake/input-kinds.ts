import type { JsonObject } from './raw-input.js';
import { isAsffFinding, isOcsfFinding } from './raw-finding.js';

/*
 * What input Riposte does not read is, in words: a dropped message's reason
 * names what arrived and what Riposte expected, not only the first field
 * that failed ("id is missing" for a bare finding, a bare "unsupported
 * event" for a CloudTrail record). Only fixed text and values of a fixed
 * form (a CloudTrail service and operation) go into these descriptions; the
 * rest of the input stays out of the message.
 */

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** What Riposte wants in place of an object that is not an event as EventBridge delivers it. */
const DELIVERED_EVENT = 'Riposte expects an event as EventBridge delivers it (version, id, detail-type, source, account, time, region, resources, detail)';

/** `ArchiveFindings` from CloudTrail's `eventName`; `guardduty` from its `eventSource` (`guardduty.amazonaws.com`). */
const CLOUDTRAIL_SERVICE = /^([a-z0-9-]{1,64})\.amazonaws\.com$/;
const CLOUDTRAIL_OPERATION = /^[A-Za-z0-9]{1,128}$/;

/** The API call a CloudTrail record is about, as `guardduty:ArchiveFindings`, when its fields have that form. */
function cloudTrailCall(detail: unknown): string | undefined {
  if (!isRecord(detail) || typeof detail.eventSource !== 'string' || typeof detail.eventName !== 'string') return undefined;
  const service = CLOUDTRAIL_SERVICE.exec(detail.eventSource)?.[1];
  return service === undefined || !CLOUDTRAIL_OPERATION.test(detail.eventName) ? undefined : `${service}:${detail.eventName}`;
}

/**
 * What an EventBridge event Riposte does not consume is, when it is one AWS
 * sends beside the findings Riposte reads (and so one a broad rule, a
 * replay or a copied pattern may deliver): `undefined` for any other kind,
 * which its source and detail-type name well enough.
 *
 * @param sourceRead whether Riposte reads other events of this source (a
 *   finding's detail-type under such a source is no other service's finding).
 */
export function describeUnsupportedEvent(source: string, detailType: string, detail: unknown, sourceRead: boolean): string | undefined {
  if (detailType === 'AWS API Call via CloudTrail') {
    const call = cloudTrailCall(detail);
    return `a CloudTrail record of ${call === undefined ? 'an API call' : `the API call ${call}`}, not a finding`;
  }
  if (source === 'aws.securityhub' && detailType === 'Security Hub Insight Results') {
    return 'the results of a Security Hub insight sent to a custom action: counts of findings per value, not the findings';
  }
  if (source === 'aws.guardduty' && /^GuardDuty Runtime Protection (Un)?healthy$/.test(detailType)) {
    return "GuardDuty's notice that its Runtime Monitoring coverage of a resource changed, not a finding";
  }
  if (source === 'aws.guardduty' && detailType.startsWith('GuardDuty Malware Protection ')) {
    return 'a GuardDuty Malware Protection scan result or status notice, not a finding';
  }
  if (!sourceRead && /^aws\.[a-z0-9-]+$/.test(source) && detailType.endsWith(' Finding')) {
    return `a finding in ${source}'s own format, which Riposte reads once Security Hub has imported it, as a "Security Hub Findings - Imported" event`;
  }
  return undefined;
}

/** A GuardDuty finding, as `GetFindings` returns it and a `GuardDuty Finding` event carries it in `detail`. */
const isGuardDutyFinding = (value: JsonObject): boolean => typeof value.schemaVersion === 'string' && typeof value.type === 'string' && isRecord(value.resource) && isRecord(value.service);

/** The payload AWS Config invokes a custom rule's Lambda function with (`invokingEvent` is JSON text). */
const isConfigRuleInvocation = (value: JsonObject): boolean => typeof value.invokingEvent === 'string' && ('configRuleName' in value || 'resultToken' in value || 'ruleParameters' in value);

/**
 * What a JSON object that has none of an EventBridge event's own keys
 * (`detail-type`, `source`, `detail`) is, and what Riposte expected in its
 * place; `undefined` when it has any of them (it is read as an event, and
 * its errors name the field at fault).
 */
export function describeNonEvent(value: JsonObject): string | undefined {
  if ('detail-type' in value || 'source' in value || 'detail' in value) return undefined;
  if ('DetailType' in value || ('Source' in value && 'Detail' in value)) {
    if (typeof value.Detail === 'string') {
      return `is a PutEvents request entry (Source, DetailType, Detail as JSON text), not the event EventBridge delivers from it; ${DELIVERED_EVENT}`;
    }
    return `is an EventBridge event with PascalCase keys (DetailType, Source, Detail), as an SDK's event class serialises it, not the event EventBridge delivers; ${DELIVERED_EVENT}`;
  }
  if (isConfigRuleInvocation(value)) {
    return 'is the payload AWS Config invokes a custom rule\'s Lambda function with (invokingEvent, ruleParameters, resultToken), not an EventBridge event; Riposte reads a Config rule\'s result as the aws.config "Config Rules Compliance Change" event';
  }
  if (isAsffFinding(value)) {
    return 'is a bare ASFF finding, without the EventBridge event that carries it; Riposte expects the aws.securityhub "Security Hub Findings - Imported" event, with the finding in detail.findings';
  }
  if (isOcsfFinding(value)) {
    return 'is a bare OCSF finding, without the EventBridge event that carries it; Riposte expects the aws.securityhub "Findings Imported V2" event, with the finding in detail.findings';
  }
  if (isGuardDutyFinding(value)) {
    return 'is a bare GuardDuty finding, without the EventBridge event that carries it; Riposte expects the aws.guardduty "GuardDuty Finding" event, with the finding as its detail';
  }
  return `is not an EventBridge event (it has no detail-type, source or detail); ${DELIVERED_EVENT}`;
}
