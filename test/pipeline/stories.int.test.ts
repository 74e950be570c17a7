import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetAccountPasswordPolicyCommand, IAMClient, ListRolePoliciesCommand, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';

import { RIPOSTE_NOTE_AUTHOR } from '../../src/actions/index.js';
import { readApiRequest } from '../../src/intake/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { emulatorClientFactory } from '../support/emulator.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { compromisedInstance, eventFor, EVIDENCE_BUCKET, guardDutyEventFor, onlyRun, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const phases = (record: RunRecord): string[] => record.steps.map((step) => `${step.action}:${step.phase}:${step.status}`);

describe('story: a failed CIS password-policy control in a member account', () => {
  it('is fixed, verified, recorded in the ledger, noted on the finding (RESOLVED), notified and logged under one correlation id', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const iam = lab.clients.create(IAMClient, target);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
    const event = eventFor('securityhub-imported-cis-password-policy.json', MEMBER);

    const result = await lab.pipeline.handleEvent(event, { correlationId: 'corr-cis-1' });

    const [finding] = result.findings;
    const run = onlyRun(finding?.runs ?? []);
    expect(run).toMatchObject({ playbookId: 'cis-password-policy', status: 'succeeded', mode: 'enforce', workflowStatus: 'RESOLVED' });
    expect(run.matched.length).toBeGreaterThan(0);

    // The state, read back from the emulator.
    const { PasswordPolicy: policy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
    expect(policy).toMatchObject({
      MinimumPasswordLength: 14,
      RequireSymbols: true,
      RequireNumbers: true,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      PasswordReusePrevention: 24,
      MaxPasswordAge: 90,
    });

    // The ledger holds the whole record: the event as received, plan, change, verification, outcome.
    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(record).toMatchObject({ status: 'succeeded', mode: 'enforce', trigger: 'automatic', playbookId: 'cis-password-policy', account: MEMBER, correlationId: 'corr-cis-1', attempt: 1 });
    expect((record.receivedEvent as { envelope: { id: string } }).envelope.id).toBe(event.id);
    expect(phases(record)).toEqual(['iam.set-password-policy:plan:changed', 'iam.set-password-policy:run:changed', 'iam.set-password-policy:verify:compliant']);
    expect(record.steps[1]?.undo).toMatchObject({ previous: { MinimumPasswordLength: 8 } });
    expect(record.outcome).toMatchObject({ workflowStatus: 'RESOLVED' });
    expect(await lab.ledger.listRunsForFinding(finding?.findingId as string)).toHaveLength(1);

    // The finding's note and status: the one BatchUpdateFindings request Riposte made...
    const detail = event.detail as { findings: Array<{ Id: string; ProductArn: string }> };
    expect(lab.findingUpdates()).toEqual([
      {
        FindingIdentifiers: [{ Id: detail.findings[0]?.Id, ProductArn: detail.findings[0]?.ProductArn }],
        Note: { Text: expect.stringMatching(new RegExp(`^\\[riposte run ${run.runId} playbook cis-password-policy\\] RESOLVED`)), UpdatedBy: 'riposte' },
        Workflow: { Status: 'RESOLVED' },
      },
    ]);
    // ...and what Security Hub holds after it, read back from the emulator.
    const held = await readEventFinding(event);
    expect(held?.Workflow?.Status).toBe('RESOLVED');
    expect(held?.Note).toMatchObject({ UpdatedBy: RIPOSTE_NOTE_AUTHOR, Text: lab.findingUpdates()[0]?.Note?.Text });
    expect(held?.Note?.Text).toContain('iam.set-password-policy');

    // The SNS message, read back from moto's record of sent notifications.
    const sent = await lab.sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.message).toContain(run.runId);
    expect(sent[0]?.message).toContain('iam.set-password-policy');

    // The result event, delivered through EventBridge (a rule on the configured bus feeds a queue).
    const events = await lab.resultEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'riposte',
      'detail-type': 'Riposte Remediation Result',
      detail: { runId: run.runId, playbookId: 'cis-password-policy', status: 'succeeded', workflowStatus: 'RESOLVED', mode: 'enforce', correlationId: 'corr-cis-1' },
    });

    // Every log line of the run carries the correlation id; run lines carry finding, playbook, account and region.
    expect(lab.logs.entries.length).toBeGreaterThan(3);
    for (const entry of lab.logs.entries) expect(entry.attributes.correlationId).toBe('corr-cis-1');
    const runLines = lab.logs.entries.filter((entry) => entry.attributes.runId === run.runId);
    expect(runLines.length).toBeGreaterThan(2);
    for (const entry of runLines) {
      expect(entry.attributes).toMatchObject({ findingId: finding?.findingId, playbookId: 'cis-password-policy', account: MEMBER, region: 'us-east-1' });
    }
  });
});

describe('story: a GuardDuty EC2 compromise', () => {
  it('is isolated with snapshots, evidence, revoked sessions and termination protection', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const ec2 = lab.clients.create(EC2Client, target);
    const iam = lab.clients.create(IAMClient, target);

    const result = await lab.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance), { correlationId: 'corr-gd-1' });

    const run = onlyRun(result.findings[0]?.runs ?? []);
    expect(run).toMatchObject({ playbookId: 'ec2-compromise-isolate', status: 'succeeded', workflowStatus: 'RESOLVED' });
    await expectIsolated(lab, ec2, iam, instance);

    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(record.status).toBe('succeeded');
    // The steps run side by side (`concurrent`): recorded as each ends, in any order.
    const runSteps = record.steps.filter((step) => step.phase === 'run').map((step) => `${step.action}:${step.status}`);
    expect(runSteps.sort()).toEqual([
      // In no Auto Scaling group, behind no load balancer, not managed by Systems Manager: nothing to do, and each says so.
      'autoscaling.standby-instance:compliant',
      'ec2.capture-metadata:changed',
      'ec2.detach-instance-profile:changed',
      'ec2.enable-termination-protection:changed',
      'ec2.isolate:changed',
      'ec2.snapshot-volumes:changed',
      'elb.deregister-instance:compliant',
      'iam.revoke-role-sessions:changed',
      'ssm.collect-evidence:compliant',
    ]);
    expect(record.steps.filter((step) => step.phase === 'verify').every((step) => step.status === 'compliant')).toBe(true);
    expect(record.steps.find((step) => step.action === 'ec2.capture-metadata' && step.phase === 'run')?.evidence?.[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    // A native GuardDuty event is not a Security Hub finding: no note to write; SNS still hears of it.
    expect(lab.findingUpdates()).toEqual([]);
    expect((await lab.sentNotifications()).map((message) => message.message).join('\n')).toContain(run.runId);
  });
});

describe('story: an on-demand request with an instance id', () => {
  it('runs the incident-response playbook on that instance', async () => {
    lab = await pipelineLab();
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const ec2 = lab.clients.create(EC2Client, target);
    const iam = lab.clients.create(IAMClient, target);
    const intake = readApiRequest(
      JSON.stringify({ instanceId: instance.instanceId, account: MEMBER, region: 'us-east-1', playbook: 'ec2-compromise-isolate', reason: 'ticket SEC-1234' }),
      { principal: 'arn:aws:iam::123456789012:user/analyst' },
      { requestId: 'req-1' },
    );

    // The deployment's automatic setting (plan, the default) does not hold back a person's request.
    const result = await lab.pipeline.handleIntake(intake, { correlationId: 'req-1' });

    const run = onlyRun(result.findings[0]?.runs ?? []);
    expect(run).toMatchObject({ playbookId: 'ec2-compromise-isolate', status: 'succeeded', mode: 'enforce', workflowStatus: 'RESOLVED' });
    expect(run.modeReason).toContain('arn:aws:iam::123456789012:user/analyst');
    await expectIsolated(lab, ec2, iam, instance);
    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(record).toMatchObject({ trigger: 'api', status: 'succeeded', correlationId: 'req-1' });
  });
});

/** Snapshots of both volumes, metadata evidence, termination protection, no instance profile, sessions revoked, every interface quarantined. */
async function expectIsolated(lab: PipelineLab, ec2: EC2Client, iam: IAMClient, instance: Awaited<ReturnType<typeof compromisedInstance>>): Promise<void> {
  const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...instance.volumeIds] }] }));
  expect(new Set(Snapshots?.map((snapshot) => snapshot.VolumeId))).toEqual(new Set(instance.volumeIds));

  const s3 = emulatorClientFactory().create(S3Client, {}, { forcePathStyle: true });
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET }));
  expect(Contents?.some((object) => object.Key?.includes(instance.instanceId))).toBe(true);

  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  expect(termination.DisableApiTermination?.Value).toBe(true);

  const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] }));
  expect((IamInstanceProfileAssociations ?? []).filter((association) => association.State === 'associated')).toEqual([]);

  const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: instance.roleName }));
  expect(PolicyNames?.length).toBeGreaterThan(0);

  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  const groups = new Set(NetworkInterfaces?.flatMap((eni) => eni.Groups?.map((group) => group.GroupId) ?? []));
  expect(groups.size).toBe(1);
  const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [...groups] as string[] }));
  expect(SecurityGroups?.[0]?.IpPermissions ?? []).toEqual([]);
  expect(SecurityGroups?.[0]?.IpPermissionsEgress ?? []).toEqual([]);
  void lab;
}
