import { parseArn } from '../aws-names.js';
import { MalformedEventError } from './errors.js';
import type { ParsedEnvelope } from './envelope.js';
import type { Trigger } from './types.js';

const ACTION_ID = /^action\/custom\/([A-Za-z0-9]{1,20})$/;

/**
 * A `Security Hub Findings - Custom Action` event names its action in
 * `resources` (the action target's ARN) and in `detail.actionName`.
 */
export function customActionTrigger(parsed: ParsedEnvelope): Extract<Trigger, { kind: 'custom-action' }> {
  const source = parsed.envelope.source;
  const actionArn = parsed.envelope.resources.find((arn) => parseArn(arn)?.resource.startsWith('action/custom/'));
  if (actionArn === undefined) {
    throw new MalformedEventError('must include the custom action ARN (arn:…:securityhub:…:action/custom/<Id>)', source, 'resources');
  }
  const actionId = ACTION_ID.exec(parseArn(actionArn)?.resource ?? '')?.[1];
  if (actionId === undefined) {
    throw new MalformedEventError(`names an invalid custom action id in ${actionArn} (at most 20 letters and digits)`, source, 'resources');
  }
  const { actionName, actionDescription } = parsed.detail;
  if (typeof actionName !== 'string' || actionName === '') {
    throw new MalformedEventError('is missing', source, 'detail.actionName');
  }
  if (actionDescription !== undefined && typeof actionDescription !== 'string') {
    throw new MalformedEventError('must be a string', source, 'detail.actionDescription');
  }
  return {
    kind: 'custom-action',
    actionId,
    actionName,
    ...(actionDescription === undefined || actionDescription === '' ? {} : { actionDescription }),
    actionArn,
  };
}
