import { SNSClient } from '@aws-sdk/client-sns';

import { publishToTopic, snsSubject, type SnsNotification } from '../../actions/index.js';
import type { AwsClientFactory } from '../../aws/index.js';
import { describeError, isRetryableError, type ErrorContext } from '../../errors.js';
import { parseArn } from '../../aws-names.js';
import { neutralise, neutraliseJson } from '../../neutralise.js';
import { SNS_MESSAGE_MAX_BYTES } from './constants.js';
import { NotificationPublishError } from './errors.js';
import { fitSummary, type TruncatedRunSummary } from './fit-summary.js';
import { clip, type RunSummary } from './run-summary.js';

/**
 * Publishes a message to an SNS topic, in the topic's region (read from its
 * ARN), through the same call as the `notify` action. The subject is made
 * SNS-safe (ASCII, one line, at most 100 characters).
 *
 * @param context added to a failure's context (run id, playbook).
 * @throws NotificationPublishError when the ARN is not an SNS topic's, or SNS
 *   refuses the message or cannot be reached (retryable when throttled, 5xx
 *   or a network error).
 */
export async function publishNotification(factory: AwsClientFactory, topicArn: string, notification: SnsNotification, context: ErrorContext = {}): Promise<{ messageId: string }> {
  const arn = parseArn(topicArn);
  if (arn === undefined || arn.service !== 'sns' || arn.region === '') {
    throw new NotificationPublishError(`not an SNS topic ARN: ${topicArn}`, { ...context, resource: topicArn });
  }
  const where: ErrorContext = { ...context, account: arn.account, region: arn.region, resource: topicArn };
  try {
    return await publishToTopic(factory.create(SNSClient, { region: arn.region }), topicArn, notification);
  } catch (error) {
    throw new NotificationPublishError(`publishing to ${topicArn} failed: ${describeError(error)}`, where, { cause: error, retryable: isRetryableError(error) });
  }
}

const WORKFLOW_LINE: Readonly<Record<string, string>> = {
  RESOLVED: 'Finding workflow: RESOLVED',
  NOTIFIED: 'Finding workflow: NOTIFIED',
};

function subjectOf(summary: RunSummary): string {
  const outcome = summary.mode === 'plan' ? 'plan' : (summary.workflowStatus ?? summary.status);
  return snsSubject(`Riposte ${outcome}: ${summary.playbookId} on ${summary.finding.severity} finding in ${summary.finding.account}`);
}

function textOf(summary: TruncatedRunSummary): string {
  const { finding } = summary;
  const [resource, ...more] = finding.resources;
  const lines = [
    `${finding.severity}: ${finding.title}`,
    `Account ${finding.account}, ${finding.region}${resource === undefined ? '' : `, ${resource.type} ${resource.id}`}${more.length === 0 ? '' : ` (+${more.length} more)`}`,
    `Finding ${finding.id} (${finding.product})`,
    `Playbook ${summary.playbookId}${summary.playbookTitle === undefined ? '' : ` (${summary.playbookTitle})`}, run ${summary.runId}, mode ${summary.mode}, triggered ${summary.trigger}`,
    `Run ${summary.status}: ${summary.summary}`,
    ...(summary.steps.length === 0 ? [] : ['Steps:']),
    ...summary.steps.map((step) => `- ${step.action}${step.phase === 'run' ? '' : ` (${step.phase})`}: ${step.status} — ${step.summary}`),
    ...(summary.omittedSteps === undefined || summary.omittedSteps === 0 ? [] : [`- … ${summary.omittedSteps} more steps (see the run record)`]),
    summary.mode === 'plan' ? 'Finding workflow: unchanged (plan)' : (WORKFLOW_LINE[summary.workflowStatus ?? ''] ?? 'Finding workflow: unchanged'),
    ...(summary.truncated === true ? ['(details cut to fit the message; the run record has them all)'] : []),
  ];
  // A finding's title, id or a step's summary cannot start a line of its own or steer a mail reader's display; the JSON parses back the same.
  return `${lines.map(neutralise).join('\n')}\n\n${neutraliseJson(JSON.stringify(summary, null, 2))}\n`;
}

/**
 * The SNS message for a run: readable lines (the finding, the playbook and
 * run, each step as `- action: status — summary`, the workflow status set),
 * then the summary as JSON for machines. The subject is one line of at most
 * 100 characters. A run too big for SNS's 256 KB is cut (see `fitSummary`).
 */
export function runNotification(summary: RunSummary): { subject: string; message: string } {
  const subject = subjectOf(summary);
  const fits = (candidate: TruncatedRunSummary): boolean => Buffer.byteLength(textOf(candidate), 'utf8') <= SNS_MESSAGE_MAX_BYTES;
  const fitted = fitSummary(summary, fits);
  // Nothing fits only when the finding alone is enormous: the first lines still say what happened.
  return { subject, message: fitted === undefined ? clip(textOf({ ...summary, steps: [], omittedSteps: summary.steps.length, truncated: true }), 4_096) : textOf(fitted) };
}
