import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import * as z from '../zod.js';

import { parseArn } from '../aws-names.js';
import { neutralise, neutraliseJson } from '../neutralise.js';
import { NotificationTopicMissingError } from './errors.js';
import { defineAction } from './registry.js';
import type { ActionContext } from './runtime.js';

const params = z.strictObject({
  topicArn: z.optional(z.string().check(z.regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN'))),
  subject: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
});
type Params = z.output<typeof params>;

/** SNS's limit on `Subject`. */
export const SNS_SUBJECT_MAX = 100;

/** Typography SNS would reject in a subject, and its ASCII stand-in. */
const ASCII_STAND_INS: ReadonlyArray<readonly [RegExp, string]> = [
  [/[\u2010-\u2015\u2212]/g, '-'],
  [/[\u2018\u2019\u201a\u2032]/g, "'"],
  [/[\u201c\u201d\u201e\u2033]/g, '"'],
  [/\u2192/g, '->'],
];

/** Line breaks and tabs, which in a one-line subject read as the space they stand for. */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;

/**
 * A subject SNS accepts: ASCII without line breaks or control characters,
 * starting with a printable character, at most 100 characters. Line breaks
 * and tabs become spaces; other control and bidi characters are shown as
 * escapes (`\u001b`, as `neutralise` writes them) so the reader sees they
 * were there; accents are dropped (`é` → `e`), dashes and quotes made
 * plain, anything else replaced by a space.
 */
export function snsSubject(text: string): string {
  let subject = neutralise(text.replace(BREAKS, ' '))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '');
  for (const [pattern, replacement] of ASCII_STAND_INS) subject = subject.replace(pattern, replacement);
  subject = subject
    .replace(/[^\x21-\x7e]+/g, ' ')
    .trim()
    .slice(0, SNS_SUBJECT_MAX)
    .trimEnd();
  return subject === '' ? 'Riposte notification' : subject;
}

/** A message as SNS takes it: a subject (made SNS-safe on the way) and a body. */
export interface SnsNotification {
  readonly subject: string;
  readonly message: string;
}

/**
 * The one SNS publish Riposte makes, shared by the `notify` action and the
 * pipeline's recorder: the subject is made SNS-safe ({@link snsSubject}).
 * The client must be in the topic's region.
 */
export async function publishToTopic(sns: SNSClient, topicArn: string, notification: SnsNotification): Promise<{ messageId: string }> {
  const { MessageId } = await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: snsSubject(notification.subject), Message: notification.message }));
  return { messageId: MessageId ?? '' };
}

/** What a notification says: a few readable lines, then the same as JSON for machines. */
export function notificationOf(context: ActionContext, wanted: Params): { subject: string; message: string; payload: Record<string, unknown> } {
  const { finding } = context;
  const resource = finding.resources[0];
  const outcomes = context.previousOutcomes ?? [];
  const subject = snsSubject(wanted.subject ?? `Riposte: ${context.playbookId ?? 'run'} on ${finding.severity.label} finding in ${finding.account}`);
  const payload = {
    runId: context.runId,
    playbook: context.playbookId ?? null,
    finding: { id: finding.id, title: finding.title, severity: finding.severity.label, product: finding.product.name, account: finding.account, region: finding.region },
    resource: resource === undefined ? null : { type: resource.type, id: resource.id },
    trigger: finding.trigger.kind,
    steps: outcomes.map((outcome) => ({ action: outcome.action, changed: outcome.changed, summary: outcome.summary })),
  };
  const lines = [
    `${finding.severity.label}: ${finding.title}`,
    `Account ${finding.account}, ${finding.region}${resource === undefined ? '' : `, ${resource.type} ${resource.id}`}`,
    `Playbook ${context.playbookId ?? '(none)'}, run ${context.runId}, triggered ${finding.trigger.kind}`,
    ...outcomes.map((outcome) => `- ${outcome.action}: ${outcome.summary}`),
  ];
  // Each line is one line whatever the finding's title or a step's summary holds; the JSON is the same JSON, escaped.
  return { subject, message: `${lines.map(neutralise).join('\n')}\n\n${neutraliseJson(JSON.stringify(payload, null, 2))}\n`, payload };
}

/**
 * Publishes a concise, readable summary of the run (with a JSON payload) to
 * SNS: the step's topic, or the deployment's.
 *
 * ```yaml
 * - notify: { subject: "Instance isolated" }
 * ```
 */
export const notify = defineAction({
  name: 'notify',
  description: "Publish the run's outcome to SNS",
  params,
  target: 'finding',
  permissions: { member: [], hosting: ['sns:Publish'] },
  changesResources: false,
  behaviour: {
    async plan(context, wanted) {
      const topic = wanted.topicArn ?? context.hosting.topicArn;
      return {
        action: 'notify',
        resource: topic ?? '(no topic)',
        compliant: false,
        summary: topic === undefined ? 'no SNS topic configured: would fail' : `would publish "${notificationOf(context, wanted).subject}" to ${topic}`,
        changes: [],
      };
    },
    async run(context, wanted) {
      const topic = wanted.topicArn ?? context.hosting.topicArn;
      if (topic === undefined) throw new NotificationTopicMissingError('notify', context);
      const { subject, message } = notificationOf(context, wanted);
      const sns = context.hosting.factory.create(SNSClient, { region: parseArn(topic)?.region ?? context.target.region });
      const { messageId } = await publishToTopic(sns, topic, { subject, message });
      // A notification is not a change to any resource: nothing to roll back, nothing to verify but its delivery.
      return { action: 'notify', resource: topic, changed: false, summary: `published message ${messageId} to ${topic}`, changes: [] };
    },
    async verify() {
      return { compliant: true, summary: 'a notification changes nothing to verify' };
    },
  },
});
