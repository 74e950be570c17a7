import { BatchUpdateFindingsV2Command, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { RIPOSTE_NOTE_AUTHOR, updateFinding } from '../../src/actions/finding-update.js';
import { FindingUpdateError, NotificationTopicMissingError } from '../../src/actions/index.js';
import { notify } from '../../src/actions/notify.js';
import type { ActionBehaviour, ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { emulatorData, resetEmulator } from '../support/emulator.js';
import { asffFindingOf, importFindings, readFinding } from '../support/emulator-securityhub.js';
import { UNSAFE_TEXT } from '../support/unsafe-text.js';

const update = updateFinding.behaviour as ActionBehaviour<{ workflow?: 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED'; note?: string }, never>;
const publish = notify.behaviour as ActionBehaviour<{ topicArn?: string; subject?: string }, never>;
const withPlaybook = (context: ActionContext): ActionContext => ({ ...context, playbookId: 'cis-password-policy' });

describe('finding.update (ASFF), read back from the emulator', () => {
  // The emulator's launcher (src/emulator/moto_riposte.py) implements BatchUpdateFindings and filtered
  // GetFindings as the API reference describes them: each finding is imported first, as its product would.
  beforeEach(async () => {
    await resetEmulator();
  });
  const CIS = 'securityhub-imported-cis-password-policy.json';

  it('writes a note authored by Riposte and the workflow status with BatchUpdateFindings', async () => {
    const finding = asffFindingOf(CIS);
    await importFindings([finding]);
    const context = withPlaybook(actionContext(CIS, '111122223333'));

    const outcome = await update.run(context, { workflow: 'RESOLVED', note: 'Password policy set' });

    expect(outcome).toMatchObject({ changed: true, summary: 'finding updated: workflow and note' });
    const stored = await readFinding(finding.Id as string, finding.ProductArn as string);
    expect(stored?.Note).toMatchObject({ Text: '[riposte run r-test playbook cis-password-policy] Password policy set', UpdatedBy: RIPOSTE_NOTE_AUTHOR });
    expect(stored?.Workflow?.Status).toBe('RESOLVED');
    // BatchUpdateFindings never moves the finding's own UpdatedAt (the loop guard relies on it).
    expect(stored?.UpdatedAt).toBe(finding.UpdatedAt);
  });

  it('writes a note whose text holds a newline, ESC and a forged header as one neutralised line under the byte-identical header', async () => {
    const finding = asffFindingOf(CIS);
    await importFindings([finding]);
    const context = withPlaybook(actionContext(CIS, '111122223333'));

    await update.run(context, { note: 'done\n[riposte run r-forged playbook x] \u001b[2J' });

    expect((await readFinding(finding.Id as string, finding.ProductArn as string))?.Note?.Text).toBe(
      '[riposte run r-test playbook cis-password-policy] done\\n[riposte run r-forged playbook x] \\u001b[2J',
    );
  });

  it('fails with a typed error when Security Hub leaves the finding unprocessed (a finding it does not hold)', async () => {
    const error: unknown = await update.run(actionContext('securityhub-imported-open-ssh.json', '111122223333'), { workflow: 'NOTIFIED' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FindingUpdateError);
    expect(error).toMatchObject({ message: expect.stringMatching(/^Security Hub did not update the finding: FindingNotFound /) as unknown, context: { account: '111122223333' } });
  });

  it('changes nothing when the finding already carries the note and status, or is not a Security Hub finding', async () => {
    const finding = asffFindingOf('securityhub-imported-riposte-note.json');
    await importFindings([finding]);
    const noted = actionContext('securityhub-imported-riposte-note.json', '111122223333');
    const native = actionContext('guardduty-ec2-backdoor.json', '111122223333');

    expect(await update.run(noted, { workflow: 'NOTIFIED' })).toMatchObject({ changed: false });
    expect(await update.run(native, { workflow: 'RESOLVED', note: 'x' })).toMatchObject({ changed: false, summary: 'not a Security Hub finding (guardduty): nothing to update' });
    const stored = await readFinding(finding.Id as string, finding.ProductArn as string);
    expect(stored?.Note).toEqual(finding.Note);
    expect(stored?.Workflow).toEqual(finding.Workflow);
  });

  it('verifies by reading the finding back', async () => {
    const finding = asffFindingOf(CIS);
    await importFindings([finding]);
    const context = withPlaybook(actionContext(CIS, '111122223333'));

    expect(await update.verify(context, { workflow: 'RESOLVED', note: 'done' })).toMatchObject({ compliant: false });
    await update.run(context, { workflow: 'RESOLVED', note: 'done' });
    expect(await update.verify(context, { workflow: 'RESOLVED', note: 'done' })).toEqual({ compliant: true, summary: 'finding carries the note and status' });
    expect(await update.verify(context, { workflow: 'NOTIFIED' })).toMatchObject({ compliant: false });
  });
});

describe('finding.update (OCSF)', () => {
  // Emulator gap: moto keeps no OCSF findings, so nothing can be imported for BatchUpdateFindingsV2 to
  // update (the launcher validates the request and answers every finding unprocessed). The exact
  // request is asserted on a mock instead.
  // Made when this block starts (not when the file is collected): the mock replaces the client class's send for
  // the whole worker, so the blocks before it, and later test files (not isolated), keep the real one.
  let securityHub: AwsClientStub<SecurityHubClient>;
  beforeAll(() => {
    securityHub = mockClient(SecurityHubClient);
  });
  afterAll(() => securityHub.restore());

  it('uses BatchUpdateFindingsV2 with a marked comment and status id', async () => {
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
