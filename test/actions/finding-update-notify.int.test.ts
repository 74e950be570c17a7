import { BatchUpdateFindingsCommand, BatchUpdateFindingsV2Command, GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { RIPOSTE_NOTE_AUTHOR, updateFinding } from '../../src/actions/finding-update.js';
import { FindingUpdateError, NotificationTopicMissingError } from '../../src/actions/index.js';
import { notify } from '../../src/actions/notify.js';
import type { ActionBehaviour, ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { emulatorData, resetEmulator } from '../support/emulator.js';
import { UNSAFE_TEXT } from '../support/unsafe-text.js';

const update = updateFinding.behaviour as ActionBehaviour<{ workflow?: 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED'; note?: string }, never>;
const publish = notify.behaviour as ActionBehaviour<{ topicArn?: string; subject?: string }, never>;
const withPlaybook = (context: ActionContext): ActionContext => ({ ...context, playbookId: 'cis-password-policy' });

describe('finding.update', () => {
  // Emulator gap: moto does not implement Security Hub BatchUpdateFindings,
  // BatchUpdateFindingsV2 or filtered GetFindings, so these calls are mocked
  // and the exact requests asserted.
  const securityHub = mockClient(SecurityHubClient);
  afterEach(() => securityHub.reset());
  // The mock replaces the client class's send for the whole worker, whose later test files (not isolated) use the real one.
  afterAll(() => securityHub.restore());

  it('writes a note authored by Riposte and the workflow status with BatchUpdateFindings (ASFF)', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const context = withPlaybook(actionContext('securityhub-imported-cis-password-policy.json', '111122223333'));

    const outcome = await update.run(context, { workflow: 'RESOLVED', note: 'Password policy set' });

    expect(outcome).toMatchObject({ changed: true, summary: 'finding updated: workflow and note' });
    expect(securityHub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input)).toEqual([
      {
        FindingIdentifiers: [
          {
            Id: 'arn:aws:securityhub:us-east-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.2.0/1.9/finding/ed11922f-86d5-48bc-b784-4d69fcf13037',
            ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
          },
        ],
        Note: { Text: '[riposte run r-test playbook cis-password-policy] Password policy set', UpdatedBy: RIPOSTE_NOTE_AUTHOR },
        Workflow: { Status: 'RESOLVED' },
      },
    ]);
  });

  it('uses BatchUpdateFindingsV2 with a marked comment and status id for OCSF findings', async () => {
    securityHub.on(BatchUpdateFindingsV2Command).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const context = withPlaybook(actionContext('securityhub-v2-ocsf-compliance.json', '111122223333'));

    await update.run(context, { workflow: 'NOTIFIED', note: 'Plan recorded' });

    expect(securityHub.commandCalls(BatchUpdateFindingsV2Command).map((call) => call.args[0].input)).toEqual([
      {
        FindingIdentifiers: [
          {
            CloudAccountUid: '111122223333',
            FindingInfoUid: 'arn:aws:securityhub:us-east-1:111122223333:security-control/IAM.15/finding/4b8ce8c0-1326-4af6-a1db-5a51c0692e72',
            MetadataProductUid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
          },
        ],
        Comment: '[riposte run r-test playbook cis-password-policy] Plan recorded',
        StatusId: 2,
      },
    ]);
  });

  it('writes a note whose text holds a newline, ESC and a forged header as one neutralised line under the byte-identical header', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const context = withPlaybook(actionContext('securityhub-imported-cis-password-policy.json', '111122223333'));

    await update.run(context, { note: 'done\n[riposte run r-forged playbook x] \u001b[2J' });

    expect(securityHub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input.Note)).toEqual([
      { Text: '[riposte run r-test playbook cis-password-policy] done\\n[riposte run r-forged playbook x] \\u001b[2J', UpdatedBy: RIPOSTE_NOTE_AUTHOR },
    ]);
  });

  it('fails with a typed error when Security Hub leaves the finding unprocessed', async () => {
    securityHub.on(BatchUpdateFindingsCommand).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [{ FindingIdentifier: { Id: 'x', ProductArn: 'y' }, ErrorCode: 'FindingNotFound', ErrorMessage: 'no such finding' }],
    });

    const error: unknown = await update.run(actionContext('securityhub-imported-open-ssh.json', '111122223333'), { workflow: 'NOTIFIED' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FindingUpdateError);
    expect(error).toMatchObject({ message: 'Security Hub did not update the finding: FindingNotFound no such finding', context: { account: '111122223333' } });
  });

  it('changes nothing when the finding already carries the note and status, or is not a Security Hub finding', async () => {
    const noted = actionContext('securityhub-imported-riposte-note.json', '111122223333');
    const native = actionContext('guardduty-ec2-backdoor.json', '111122223333');

    expect(await update.run(noted, { workflow: 'NOTIFIED' })).toMatchObject({ changed: false });
    expect(await update.run(native, { workflow: 'RESOLVED', note: 'x' })).toMatchObject({ changed: false, summary: 'not a Security Hub finding (guardduty): nothing to update' });
    expect(securityHub.calls()).toHaveLength(0);
  });

  it('verifies by reading the finding back', async () => {
    const context = withPlaybook(actionContext('securityhub-imported-cis-password-policy.json', '111122223333'));
    securityHub
      .on(GetFindingsCommand)
      .resolves({ Findings: [{ Workflow: { Status: 'RESOLVED' }, Note: { Text: '[riposte run r-test playbook cis-password-policy] done', UpdatedBy: 'riposte', UpdatedAt: '' } }] as never });

    expect(await update.verify(context, { workflow: 'RESOLVED', note: 'done' })).toEqual({ compliant: true, summary: 'finding carries the note and status' });
    expect(await update.verify(context, { workflow: 'NOTIFIED' })).toMatchObject({ compliant: false });
    expect(securityHub.commandCalls(GetFindingsCommand)[0]?.args[0].input.Filters?.Id).toEqual([{ Value: context.finding.id, Comparison: 'EQUALS' }]);
  });
});

describe('notify', () => {
  beforeEach(() => resetEmulator());

  it('publishes a readable summary with a JSON payload to the deployment topic, read back from the emulator', async () => {
    const base = actionContext('guardduty-ec2-backdoor.json', '222222222222');
    const { TopicArn } = await base.hosting.factory.create(SNSClient).send(new CreateTopicCommand({ Name: 'riposte-notifications' }));
    const context: ActionContext = {
      ...base,
      playbookId: 'ec2-compromise-isolate',
      hosting: { ...base.hosting, topicArn: TopicArn },
      previousOutcomes: [{ action: 'ec2.isolate', resource: 'i-1', changed: true, summary: 'isolated', changes: [] }],
    };

    await publish.run(context, { subject: 'EC2 instance isolated' });

    // moto keeps each topic's sent notifications as [message id, message, subject, attributes, group id].
    const data = (await emulatorData()) as { sns: { Topic: Array<{ arn: string; sent_notifications: Array<[string, string, string]> }> } };
    const [sent] = data.sns.Topic.find((topic) => topic.arn === TopicArn)?.sent_notifications ?? [];
    const [, message, subject] = sent ?? [];
    expect(subject).toBe('EC2 instance isolated');
    expect(message?.split('\n').slice(0, 4)).toEqual([
      'HIGH: Command and Control server domain name queried by EC2 instance i-0a1b2c3d4e5f60718.',
      'Account 222222222222, us-east-1, AwsEc2Instance arn:aws:ec2:us-east-1:222222222222:instance/i-0a1b2c3d4e5f60718',
      'Playbook ec2-compromise-isolate, run r-test, triggered automatic',
      '- ec2.isolate: isolated',
    ]);
    expect(JSON.parse(message?.slice(message.indexOf('{')) ?? '{}')).toMatchObject({ runId: 'r-test', playbook: 'ec2-compromise-isolate', steps: [{ action: 'ec2.isolate', changed: true }] });
  });

  it('publishes a title with a newline, ESC sequences and a bidi override as one visible line, body and subject read back from the emulator', async () => {
    const base = actionContext('guardduty-ec2-backdoor.json', '222222222222');
    const { TopicArn } = await base.hosting.factory.create(SNSClient).send(new CreateTopicCommand({ Name: 'riposte-hostile' }));
    const title = 'Benign\nAccount 999999999999, all clear\u001b[2J\u001b]0;owned\u0007\u202egnp.exe';
    const context: ActionContext = { ...base, finding: { ...base.finding, title }, playbookId: 'ec2-compromise-isolate', hosting: { ...base.hosting, topicArn: TopicArn } };

    await publish.run(context, {});

    const data = (await emulatorData()) as { sns: { Topic: Array<{ arn: string; sent_notifications: Array<[string, string, string]> }> } };
    const [, message = '', subject = ''] = data.sns.Topic.find((topic) => topic.arn === TopicArn)?.sent_notifications[0] ?? [];
    expect(message.split('\n').slice(0, 3)).toEqual([
      'HIGH: Benign\\nAccount 999999999999, all clear\\u001b[2J\\u001b]0;owned\\u0007\\u202egnp.exe',
      'Account 222222222222, us-east-1, AwsEc2Instance arn:aws:ec2:us-east-1:222222222222:instance/i-0a1b2c3d4e5f60718',
      'Playbook ec2-compromise-isolate, run r-test, triggered automatic',
    ]);
    expect(message).not.toMatch(UNSAFE_TEXT);
    expect(subject).toBe('Riposte: ec2-compromise-isolate on HIGH finding in 222222222222');
    expect(JSON.parse(message.slice(message.indexOf('{')))).toMatchObject({ finding: { title } });
  });

  it('fails with a typed error when no topic is configured', async () => {
    const error: unknown = await publish.run(actionContext('guardduty-ec2-backdoor.json', '222222222222'), {}).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotificationTopicMissingError);
  });
});
