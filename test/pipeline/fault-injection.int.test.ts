import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';

import { emulatorClientOptions } from '../../src/emulator/index.js';

import { RIPOSTE_NOTE_AUTHOR } from '../../src/actions/index.js';
import { AwsClientFactory, MemberClients, MemberCredentials } from '../../src/aws/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { memberClients } from '../support/action-context.js';
import { emulatorClientFactory, emulatorEndpoint } from '../support/emulator.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { flakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { compromisedInstance, eventFor, EVIDENCE_BUCKET, onlyRun, pipelineLab, sequentialLibrary, type CompromisedInstance, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
let proxy: FlakyProxy | undefined;
afterEach(async () => {
  await lab?.close();
  lab?.clients.destroy();
  lab = undefined;
  await proxy?.close();
  proxy = undefined;
});

/** Member-account clients whose every call (STS included) goes through `endpoint`; two attempts a call keep a dead endpoint quick to give up on. */
function memberClientsVia(endpoint: string): MemberClients {
  const factory = new AwsClientFactory({ region: 'us-east-1', endpoint, maxAttempts: 2 }, emulatorClientOptions());
  return new MemberClients(
    factory,
    new MemberCredentials(factory, { roleName: 'RiposteMemberRole', externalId: 'riposte-test', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false, hostingAccount: '123456789012' }),
  );
}

/** The GuardDuty finding as Security Hub forwards it (so the run writes a note and a workflow status on it), about `instance`. */
function securityHubEventFor(instance: CompromisedInstance): Record<string, unknown> {
  return eventFor('securityhub-imported-guardduty-ec2.json', MEMBER, {
    'i-0a1b2c3d4e5f60718': instance.instanceId,
    'web-prod-instance-profile': instance.profileArn.split('/').pop() as string,
  });
}

const runPhase = (record: RunRecord): string[] => record.steps.filter((step) => step.phase === 'run').map((step) => `${step.action}:${step.status}`);
const actionsCalled = (current: FlakyProxy, action: string): number => current.requests.filter((request) => new URLSearchParams(request.body).get('Action') === action).length;

/** What the run changes on the instance, read back from the emulator directly (not through the proxy). */
async function instanceState(ec2: EC2Client, instance: CompromisedInstance) {
  const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...instance.volumeIds] }] }));
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] }));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return {
    snapshots: (Snapshots ?? []).map((snapshot) => `${snapshot.VolumeId}:${snapshot.SnapshotId}`).sort(),
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    profiles: (IamInstanceProfileAssociations ?? []).filter((association) => association.State === 'associated').map((association) => association.IamInstanceProfile?.Arn),
    groups: Object.fromEntries((NetworkInterfaces ?? []).map((eni): [string, string[]] => [eni.NetworkInterfaceId ?? '', (eni.Groups ?? []).map((group) => group.GroupId ?? '').sort()])),
  };
}

/** The finding's workflow status and note as Security Hub holds them, read back from the emulator (not through the proxy). */
async function heldFinding(event: unknown): Promise<{ workflow: string | undefined; note: string | undefined; by: string | undefined }> {
  const finding = await readEventFinding(event);
  expect(finding, 'Security Hub holds the event’s finding').toBeDefined();
  return { workflow: finding?.Workflow?.Status, note: finding?.Note?.Text, by: finding?.Note?.UpdatedBy };
}

async function evidenceKeys(): Promise<string[]> {
  const s3 = emulatorClientFactory().create(S3Client, {}, { forcePathStyle: true });
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET }));
  return (Contents ?? []).map((object) => object.Key as string).sort();
}

describe('fault injection: the member account’s endpoint stops answering mid-run', () => {
  it('records the run failed at that step and nothing fixed; the same event again finishes the work without repeating what was done', async () => {
    proxy = await flakyProxy(emulatorEndpoint());
    // One step after another (the library's steps without `concurrent`): what has run when the fault comes is known.
    lab = await pipelineLab({ clients: memberClientsVia(proxy.endpoint), settings: { automatic: 'enforce' }, playbooks: await sequentialLibrary() });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const ec2 = memberClients().create(EC2Client, target);
    const before = await instanceState(ec2, instance);
    const event = securityHubEventFor(instance);
    const findingId = (event.detail as { findings: Array<{ Id: string }> }).findings[0]?.Id as string;
    // ModifyInstanceAttribute is ec2.enable-termination-protection's change, the fourth step.
    proxy.goDownWhen((request) => new URLSearchParams(request.body).get('Action') === 'ModifyInstanceAttribute');

    const first = onlyRun((await lab.pipeline.handleEvent(event, { correlationId: 'corr-fault-1' })).findings[0]?.runs);

    const fatal = await proxy.wentDown();
    expect(new URLSearchParams(fatal.body).get('InstanceId')).toBe(instance.instanceId);
    expect(proxy.isUp).toBe(false);
    expect(first).toMatchObject({ playbookId: 'ec2-compromise-isolate', status: 'failed', mode: 'enforce', workflowStatus: 'NOTIFIED' });
    const failedRecord = (await lab.ledger.getRun(first.runId as string)) as RunRecord;
    expect(failedRecord).toMatchObject({ status: 'failed', attempt: 1, outcome: { workflowStatus: 'NOTIFIED' } });
    expect(failedRecord.retryOf).toBeUndefined();
    expect(runPhase(failedRecord)).toEqual([
      'ec2.snapshot-volumes:changed',
      // In no Auto Scaling group and behind no load balancer: nothing to take out of service.
      'autoscaling.standby-instance:compliant',
      'elb.deregister-instance:compliant',
      'ec2.isolate:changed',
      'ec2.capture-metadata:changed',
      'ec2.enable-termination-protection:failed',
      'iam.revoke-role-sessions:skipped',
      'ec2.detach-instance-profile:skipped',
      'ssm.collect-evidence:skipped',
    ]);
    const failedStep = failedRecord.steps.find((step) => step.phase === 'run' && step.status === 'failed');
    expect(failedStep?.error).toMatchObject({ name: 'ActionFailedError', retryable: true, context: { step: 'ec2.enable-termination-protection', phase: 'run', account: MEMBER } });
    expect(failedStep?.error?.message).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    expect(failedRecord.steps.filter((step) => step.phase === 'run' && step.status === 'skipped').every((step) => step.summary.includes('ec2.enable-termination-protection failed'))).toBe(true);
    expect(failedRecord.outcome?.summary).toContain('ec2.enable-termination-protection failed');

    // Nothing is reported fixed: the finding's status, the note, the message, the record.
    const updates = lab.findingUpdates();
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ Workflow: { Status: 'NOTIFIED' }, Note: { Text: expect.stringContaining(first.runId as string) } });
    const notifications = await lab.sentNotifications();
    expect(notifications).toHaveLength(1);
    expect(JSON.stringify({ first, failedRecord, updates, notifications })).not.toContain('RESOLVED');
    // What Security Hub holds, read back: NOTIFIED with the failed run's note, never RESOLVED.
    const heldAfterFailure = await heldFinding(event);
    expect(heldAfterFailure).toEqual({ workflow: 'NOTIFIED', note: updates[0]?.Note?.Text, by: RIPOSTE_NOTE_AUTHOR });
    expect(heldAfterFailure.note).toMatch(new RegExp(`^\\[riposte run ${first.runId as string} playbook ec2-compromise-isolate\\] FAILED`));
    expect(JSON.stringify(heldAfterFailure)).not.toContain('RESOLVED');

    // The emulator never saw the change: the request died in the proxy.
    const afterFailure = await instanceState(ec2, instance);
    expect(afterFailure).toMatchObject({ terminationProtection: false, profiles: before.profiles });
    expect(afterFailure.groups).not.toEqual(before.groups);
    expect(afterFailure.snapshots).toHaveLength(instance.volumeIds.length);
    const evidenceAfterFailure = await evidenceKeys();
    expect(evidenceAfterFailure.length).toBeGreaterThan(0);
    expect(evidenceAfterFailure.every((key) => key.includes(`/${first.runId as string}/`))).toBe(true);
    expect(actionsCalled(proxy, 'CreateSnapshot')).toBe(instance.volumeIds.length);

    // The endpoint answers again; the same event is delivered again (EventBridge's retry, or the next import).
    await proxy.up();
    const retry = onlyRun((await lab.pipeline.handleEvent(event, { correlationId: 'corr-fault-2' })).findings[0]?.runs);

    expect(retry).toMatchObject({ status: 'succeeded', workflowStatus: 'RESOLVED' });
    expect(retry.runId).not.toBe(first.runId);
    const retryRecord = (await lab.ledger.getRun(retry.runId as string)) as RunRecord;
    expect(retryRecord).toMatchObject({ status: 'succeeded', retryOf: first.runId, attempt: 2, outcome: { workflowStatus: 'RESOLVED' } });
    const retryRuns = retryRecord.steps.filter((step) => step.phase === 'run');
    expect(retryRuns.map((step) => `${step.action}:${step.status}:${step.carriedFromRunId ?? 'this run'}`)).toEqual([
      `ec2.snapshot-volumes:changed:${first.runId as string}`,
      `autoscaling.standby-instance:compliant:${first.runId as string}`,
      `elb.deregister-instance:compliant:${first.runId as string}`,
      `ec2.isolate:changed:${first.runId as string}`,
      `ec2.capture-metadata:changed:${first.runId as string}`,
      'ec2.enable-termination-protection:changed:this run',
      'iam.revoke-role-sessions:changed:this run',
      'ec2.detach-instance-profile:changed:this run',
      // Not managed by Systems Manager: skipped, saying why.
      'ssm.collect-evidence:compliant:this run',
    ]);
    expect(retryRecord.steps.filter((step) => step.phase === 'verify').map((step) => `${step.action}:${step.status}`)).toEqual([
      'ec2.snapshot-volumes:compliant',
      'autoscaling.standby-instance:compliant',
      'elb.deregister-instance:compliant',
      'ec2.isolate:compliant',
      'ec2.capture-metadata:compliant',
      'ec2.enable-termination-protection:compliant',
      'iam.revoke-role-sessions:compliant',
      'ec2.detach-instance-profile:compliant',
      'ssm.collect-evidence:compliant',
    ]);
    // The carried steps keep their evidence digests and the first run's record is left as it was.
    expect(retryRuns.find((step) => step.action === 'ec2.capture-metadata')?.evidence).toEqual(
      failedRecord.steps.find((step) => step.phase === 'run' && step.action === 'ec2.capture-metadata')?.evidence,
    );
    expect(await lab.ledger.getRun(first.runId as string)).toEqual(failedRecord);

    // Read back: the completed work was not repeated, the rest is done.
    const after = await instanceState(ec2, instance);
    expect(after.snapshots).toEqual(afterFailure.snapshots);
    expect(actionsCalled(proxy, 'CreateSnapshot')).toBe(instance.volumeIds.length);
    expect(await evidenceKeys()).toEqual(evidenceAfterFailure);
    expect(after.terminationProtection).toBe(true);
    expect(after.profiles).toEqual([]);
    const groups = new Set(Object.values(after.groups).flat());
    expect(groups.size).toBe(1);
    expect(Object.values(before.groups).flat()).not.toContain([...groups][0]);
    expect(lab.findingUpdates().map((update) => update.Workflow?.Status)).toEqual(['NOTIFIED', 'RESOLVED']);
    // Read back: the retry's RESOLVED and note replaced the failed run's.
    expect(await heldFinding(event)).toEqual({
      workflow: 'RESOLVED',
      note: expect.stringMatching(new RegExp(`^\\[riposte run ${retry.runId as string} playbook ec2-compromise-isolate\\] RESOLVED`)),
      by: RIPOSTE_NOTE_AUTHOR,
    });

    // A third delivery is a duplicate of the retry, not another retry.
    const third = onlyRun((await lab.pipeline.handleEvent(event, { correlationId: 'corr-fault-3' })).findings[0]?.runs);
    expect(third).toMatchObject({ status: 'duplicate', duplicateOf: retry.runId });
    expect((await lab.ledger.listRunsForFinding(findingId)).map((run) => run.runId)).toEqual([first.runId, retry.runId]);
    expect(lab.findingUpdates()).toHaveLength(2);
    expect((await heldFinding(event)).note).toContain(retry.runId as string);
  });
});

describe('fault injection: the endpoint stops answering while steps run side by side', () => {
  it('records each step of the group as it ended; the same event again carries what was done and finishes the rest, changing nothing twice', async () => {
    proxy = await flakyProxy(emulatorEndpoint());
    // The library's isolation playbook with its snapshot step (the first) on its own (so the fault cannot cut a
    // snapshot request in two), then the five other steps side by side, as the library runs them.
    const library = (await sequentialLibrary()).map((compiled) =>
      compiled.playbook.id !== 'ec2-compromise-isolate'
        ? compiled
        : {
            ...compiled,
            playbook: { ...compiled.playbook, steps: compiled.playbook.steps.map((step, index) => ({ ...step, concurrent: index >= 2 && step.action !== 'ssm.collect-evidence' })) },
          },
    );
    lab = await pipelineLab({ clients: memberClientsVia(proxy.endpoint), settings: { automatic: 'enforce' }, playbooks: library });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const ec2 = memberClients().create(EC2Client, target);
    const before = await instanceState(ec2, instance);
    const event = securityHubEventFor(instance);
    proxy.goDownWhen((request) => new URLSearchParams(request.body).get('Action') === 'ModifyInstanceAttribute');

    const first = onlyRun((await lab.pipeline.handleEvent(event, { correlationId: 'corr-group-fault-1' })).findings[0]?.runs);

    await proxy.wentDown();
    expect(first).toMatchObject({ status: 'failed', workflowStatus: 'NOTIFIED' });
    const failedRecord = (await lab.ledger.getRun(first.runId as string)) as RunRecord;
    const firstRuns = failedRecord.steps.filter((step) => step.phase === 'run');
    // One record per step, each as the step ended: which of the others finished before the fault is the machine's timing.
    expect(firstRuns.map((step) => step.action).sort()).toEqual([
      'autoscaling.standby-instance',
      'ec2.capture-metadata',
      'ec2.detach-instance-profile',
      'ec2.enable-termination-protection',
      'ec2.isolate',
      'ec2.snapshot-volumes',
      'elb.deregister-instance',
      'iam.revoke-role-sessions',
      'ssm.collect-evidence',
    ]);
    expect(firstRuns.find((step) => step.action === 'ec2.snapshot-volumes')?.status, JSON.stringify(firstRuns.map((step) => [step.action, step.status, step.summary]))).toBe('changed');
    expect(firstRuns.find((step) => step.action === 'ec2.enable-termination-protection')?.status).toBe('failed');
    // The group's other steps changed something or failed (the two with nothing to do are compliant); the collection after the group never started.
    expect(
      firstRuns
        .filter((step) => step.action !== 'ssm.collect-evidence')
        .every((step) => step.status === 'changed' || step.status === 'failed' || (step.status === 'compliant' && /autoscaling|elb/.test(step.action))),
    ).toBe(true);
    expect(firstRuns.find((step) => step.action === 'ssm.collect-evidence')?.status).toBe('skipped');
    expect(JSON.stringify(failedRecord)).not.toContain('RESOLVED');
    expect((await instanceState(ec2, instance)).terminationProtection).toBe(false);

    await proxy.up();
    const retry = onlyRun((await lab.pipeline.handleEvent(event, { correlationId: 'corr-group-fault-2' })).findings[0]?.runs);

    expect(retry).toMatchObject({ status: 'succeeded', workflowStatus: 'RESOLVED' });
    const retryRecord = (await lab.ledger.getRun(retry.runId as string)) as RunRecord;
    // What the first attempt finished is carried, not run again; what failed runs now.
    const done = new Set(firstRuns.filter((step) => step.status === 'changed' || step.status === 'compliant').map((step) => step.action));
    for (const step of retryRecord.steps.filter((candidate) => candidate.phase === 'run')) {
      expect(`${step.action}:${step.carriedFromRunId ?? 'this run'}`).toBe(`${step.action}:${done.has(step.action) ? (first.runId as string) : 'this run'}`);
    }
    expect(retryRecord.steps.filter((step) => step.phase === 'verify').every((step) => step.status === 'compliant')).toBe(true);
    // Read back: done once, and done.
    const after = await instanceState(ec2, instance);
    expect(actionsCalled(proxy, 'CreateSnapshot')).toBe(instance.volumeIds.length);
    expect(after.snapshots).toHaveLength(instance.volumeIds.length);
    expect(after.terminationProtection).toBe(true);
    expect(after.profiles).toEqual([]);
    const groups = new Set(Object.values(after.groups).flat());
    expect(groups.size).toBe(1);
    expect(Object.values(before.groups).flat()).not.toContain([...groups][0]);
  });
});
