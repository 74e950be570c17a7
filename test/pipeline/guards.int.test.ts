import { DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';

import type { RunRecord } from '../../src/ledger/index.js';
import type { PlaybookRunResult } from '../../src/pipeline/index.js';
import { builtInActions, memberPermissions, RIPOSTE_NOTE_AUTHOR } from '../../src/actions/index.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { riposteWith, setIamEnforcement } from '../support/least-privilege.js';
import { compromisedInstance, eventFor, guardDutyEventFor, onlyRun, pipelineLab, playbooksFromYaml, type CompromisedInstance, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const ADMIN = '999988887777';
const CIS = 'securityhub-imported-cis-password-policy.json';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function weakenPasswordPolicy(current: PipelineLab): Promise<IAMClient> {
  const iam = current.clients.create(IAMClient, target);
  await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
  return iam;
}

/** The finding's workflow status and note as Security Hub holds them, read back from the emulator. */
async function heldFinding(event: unknown): Promise<{ workflow: string | undefined; note: { Text?: string; UpdatedBy?: string } | undefined }> {
  const finding = await readEventFinding(event);
  expect(finding, 'Security Hub holds the event’s finding').toBeDefined();
  return { workflow: finding?.Workflow?.Status, note: finding?.Note === undefined ? undefined : { Text: finding.Note.Text, UpdatedBy: finding.Note.UpdatedBy } };
}

const minimumLength = async (iam: IAMClient): Promise<number | undefined> => (await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength;

/** What an isolation would change on the instance, read back: snapshots, termination protection, interface groups. */
async function instanceState(current: PipelineLab, instance: CompromisedInstance): Promise<unknown> {
  const ec2 = current.clients.create(EC2Client, target);
  const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...instance.volumeIds] }] }));
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return {
    snapshots: Snapshots?.length ?? 0,
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    groups: Object.fromEntries((NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId, (eni.Groups ?? []).map((group) => group.GroupId).sort()])),
  };
}

describe('idempotency', () => {
  it('runs a twice-delivered event once, and the administrator account’s copy of the same finding not at all', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const iam = await weakenPasswordPolicy(lab);
    const event = eventFor(CIS, MEMBER);

    const first = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);
    expect(first.status).toBe('succeeded');
    expect(await minimumLength(iam)).toBe(14);

    // Weaken it again by hand: a second run would put it back to 14, so the policy shows whether one happened.
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));
    const again = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);
    const viaAdmin = onlyRun((await lab.pipeline.handleEvent({ ...event, id: 'another-delivery-id', account: ADMIN })).findings[0]?.runs);

    expect(again).toMatchObject({ status: 'duplicate', duplicateOf: first.runId });
    expect(viaAdmin).toMatchObject({ status: 'duplicate', duplicateOf: first.runId });
    expect(await minimumLength(iam)).toBe(8);
    expect(await lab.ledger.listRunsForFinding((event.detail as { findings: Array<{ Id: string }> }).findings[0]?.Id as string)).toHaveLength(1);
    expect(lab.findingUpdates()).toHaveLength(1);
    // Security Hub holds the one run's note and RESOLVED: the duplicates wrote nothing over it.
    expect(await heldFinding(event)).toEqual({ workflow: 'RESOLVED', note: { Text: expect.stringContaining(`[riposte run ${first.runId as string} `), UpdatedBy: RIPOSTE_NOTE_AUTHOR } });
  });
});

describe('no remediation loop', () => {
  it('recognises Riposte’s own update event coming back and runs nothing; a provider update after it runs again', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const iam = await weakenPasswordPolicy(lab);
    const event = eventFor(CIS, MEMBER);
    const findingId = (event.detail as { findings: Array<{ Id: string }> }).findings[0]?.Id as string;
    const first = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);
    expect(first.status).toBe('succeeded');

    // The event Security Hub raises for Riposte's BatchUpdateFindings: the same finding (UpdatedAt unchanged) with Riposte's note.
    const [update] = lab.findingUpdates();
    const own = structuredClone(event) as { id: string; detail: { findings: Array<Record<string, unknown>> } };
    own.id = 'own-update-event';
    const record = own.detail.findings[0] as Record<string, unknown>;
    record.Note = { Text: update?.Note?.Text, UpdatedBy: update?.Note?.UpdatedBy, UpdatedAt: new Date().toISOString() };
    // Were the status left NOTIFIED (a failed run), only the note would say it is Riposte's own.
    record.Workflow = { Status: 'NOTIFIED' };
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));

    const replay = await lab.pipeline.handleEvent(own);

    expect(replay.findings[0]).toMatchObject({ skipped: { code: 'own-update' }, runs: [] });
    expect(await lab.ledger.listRunsForFinding(findingId)).toHaveLength(1);
    expect(lab.findingUpdates()).toHaveLength(1);
    expect(await minimumLength(iam)).toBe(8);
    // Read back: Security Hub still holds the first run's note and RESOLVED.
    expect(await heldFinding(event)).toEqual({ workflow: 'RESOLVED', note: { Text: update?.Note?.Text, UpdatedBy: RIPOSTE_NOTE_AUTHOR } });

    // The control fails again later: the provider re-imports the finding, UpdatedAt moves past Riposte's note.
    record.UpdatedAt = new Date(Date.now() + 60_000).toISOString();
    own.id = 'provider-reimport';
    const rerun = onlyRun((await lab.pipeline.handleEvent(own)).findings[0]?.runs);
    expect(rerun.status).toBe('succeeded');
    expect(await minimumLength(iam)).toBe(14);
    expect(await heldFinding(event)).toEqual({ workflow: 'RESOLVED', note: { Text: expect.stringContaining(`[riposte run ${rerun.runId as string} `), UpdatedBy: RIPOSTE_NOTE_AUTHOR } });
  });

  it('skips a finding whose note Riposte wrote (its exact header, naming a run the ledger holds)', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    await lab.ledger.startRun({
      runId: 'r-20250314T093105Z-4c1f7a9e2b3d',
      correlationId: 'corr-own-note',
      findingId: 'own-note',
      playbookId: 'cis-password-policy',
      account: MEMBER,
      region: 'us-east-1',
      trigger: 'automatic',
      mode: 'enforce',
      receivedEvent: {},
    });
    const event = eventFor('securityhub-imported-riposte-own-note.json', MEMBER);
    const result = await lab.pipeline.handleEvent(event);
    expect(result.findings[0]).toMatchObject({ skipped: { code: 'own-update' }, runs: [] });
    expect(lab.findingUpdates()).toEqual([]);
    // Read back: the finding is left as Security Hub had it (Riposte's earlier note, NOTIFIED).
    const imported = (event.detail as { findings: Array<{ Note: { Text: string; UpdatedBy: string } }> }).findings[0]?.Note;
    expect(await heldFinding(event)).toEqual({ workflow: 'NOTIFIED', note: { Text: imported?.Text, UpdatedBy: imported?.UpdatedBy } });
  });

  it('does not take a note that merely mentions Riposte for its own (issue 11, case 6): the stored free-text fixture is acted on', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const event = eventFor('securityhub-imported-riposte-note.json', MEMBER);
    const result = await lab.pipeline.handleEvent(event);
    expect(result.findings[0]?.skipped).toBeUndefined();
    // Read back: acted on, so the note Security Hub holds is now Riposte's own.
    const run = onlyRun(result.findings[0]?.runs);
    expect((await heldFinding(event)).note).toEqual({ Text: expect.stringContaining(`[riposte run ${run.runId as string} `), UpdatedBy: RIPOSTE_NOTE_AUTHOR });
  });
});

describe('exemptions', () => {
  it('leaves an exempt-tagged instance alone and records why', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER, { tags: { 'riposte:exempt': 'true', 'riposte:exempt-owner': 'forensics@example.com' } });
    const before = await instanceState(lab, instance);

    const run = onlyRun((await lab.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);

    expect(run).toMatchObject({ status: 'skipped', guard: { code: 'resource-exempt' } });
    expect(run.summary).toContain('riposte:exempt');
    expect(run.summary).toContain('forensics@example.com');
    expect(await instanceState(lab, instance)).toEqual(before);
    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(record.status).toBe('skipped');
    expect(record.outcome?.summary).toBe(run.summary);
    expect(record.outcome?.details).toMatchObject({ guard: { code: 'resource-exempt' } });
  });

  it('does not let an expired exemption protect', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER, { tags: { 'riposte:exempt': 'true', 'riposte:exempt-until': '2020-01-31' } });

    const run = onlyRun((await lab.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);

    expect(run.status).toBe('succeeded');
    expect(await instanceState(lab, instance)).toMatchObject({ snapshots: 2, terminationProtection: true });
    expect(lab.logs.entries.some((entry) => entry.message === 'exemption no longer protects' && String(entry.attributes.reason).includes('2020-01-31'))).toBe(true);
  });

  it('changes nothing when the resource’s tags cannot be read (the member role may not read them), and records why', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const before = await instanceState(lab, instance);
    const everything = memberPermissions(builtInActions());
    const riposte = await riposteWith(MEMBER, {
      member: everything.filter((permission) => permission !== 'ec2:DescribeInstances'),
      hosting: ['dynamodb:*', 's3:*', 'sns:Publish'],
    });
    await setIamEnforcement(true);
    let run: PlaybookRunResult;
    try {
      run = onlyRun((await lab.as({ clients: riposte.clients, factory: riposte.hosting }).handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);
    } finally {
      await setIamEnforcement(false);
    }

    expect(run).toMatchObject({ status: 'skipped', guard: { code: 'tags-unreadable' } });
    expect(run.summary).toContain('could not be read');
    expect(run.summary).toContain('AccessDenied');
    expect(await instanceState(lab, instance)).toEqual(before);
    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(record).toMatchObject({ status: 'skipped', outcome: { details: { guard: { code: 'tags-unreadable' } } } });
    expect(record.steps).toEqual([]);
  });

  it('never changes an excluded account', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce', excludedAccounts: [MEMBER] } });
    const iam = await weakenPasswordPolicy(lab);

    const event = eventFor(CIS, MEMBER);
    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(run).toMatchObject({ status: 'skipped', guard: { code: 'account-exempt' } });
    expect(await minimumLength(iam)).toBe(8);
    // Read back: Security Hub holds why nothing was done (a note, no workflow): the finding stays NEW.
    expect(lab.findingUpdates().map((update) => update.Workflow)).toEqual([undefined]);
    expect(await heldFinding(event)).toEqual({
      workflow: 'NEW',
      note: {
        Text: expect.stringMatching(new RegExp(`^\\[riposte run ${run.runId as string} playbook cis-password-policy\\] SKIPPED: account ${MEMBER} is excluded`)),
        UpdatedBy: RIPOSTE_NOTE_AUTHOR,
      },
    });
  });
});

describe('change limits', () => {
  it('stops a playbook over its limit, records it and notifies once per trip', async () => {
    const playbooks = playbooksFromYaml(`
id: protect-compromised
title: Protect compromised instances from termination
triggers: { automatic: true }
match:
  product.id: guardduty
  resource.type: AwsEc2Instance
steps:
  - ec2.enable-termination-protection: {}
limits: { maxResourcesPerHour: 1 }
`);
    lab = await pipelineLab({ playbooks, settings: { automatic: 'enforce' } });
    const instances = [
      await compromisedInstance(lab.clients, MEMBER, { suffix: '-a' }),
      await compromisedInstance(lab.clients, MEMBER, { suffix: '-b' }),
      await compromisedInstance(lab.clients, MEMBER, { suffix: '-c' }),
    ];
    const runs: PlaybookRunResult[] = [];
    for (const [index, instance] of instances.entries()) {
      const event = guardDutyEventFor(MEMBER, instance, { '5a82ee9adccd84d14d108fae10cd4bb8': `5a82ee9adccd84d14d108fae10cd4bb${index}` });
      runs.push(onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs));
    }

    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'skipped', 'skipped']);
    expect(runs[1]).toMatchObject({ guard: { code: 'limit-reached' } });
    expect(runs[1]?.summary).toContain('maxResourcesPerHour: 1');
    const protectedNow = await Promise.all(instances.map(async (instance) => ((await instanceState(lab as PipelineLab, instance)) as { terminationProtection: boolean }).terminationProtection));
    expect(protectedNow).toEqual([true, false, false]);
    expect(((await lab.ledger.getRun(runs[2]?.runId as string)) as RunRecord).outcome?.details).toMatchObject({ guard: { code: 'limit-reached' } });
    // One message for the run that changed something, one for the trip; the third refusal adds none.
    const sent = await lab.sentNotifications();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.message).toContain('maxResourcesPerHour');
  });
});

describe('plan mode', () => {
  it('changes nothing under automatic: plan, and writes the plan into the finding note and the ledger', async () => {
    lab = await pipelineLab(); // automatic: plan, the default
    const iam = await weakenPasswordPolicy(lab);
    const before = await iam.send(new GetAccountPasswordPolicyCommand({}));

    const event = eventFor(CIS, MEMBER);
    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(run).toMatchObject({ status: 'succeeded', mode: 'plan' });
    expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy).toEqual(before.PasswordPolicy);
    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(record.steps.map((step) => step.phase)).toEqual(['plan']);
    expect(record.steps[0]?.changes.length).toBeGreaterThan(0);
    const [update] = lab.findingUpdates();
    expect(update?.Workflow).toBeUndefined();
    expect(update?.Note?.Text).toMatch(/PLAN/);
    expect(update?.Note?.Text).toContain('MinimumPasswordLength');
    // Read back: Security Hub holds the plan as Riposte's note, and the status the finding came with.
    expect(await heldFinding(event)).toEqual({ workflow: 'NEW', note: { Text: update?.Note?.Text, UpdatedBy: RIPOSTE_NOTE_AUTHOR } });
    expect(await lab.sentNotifications()).toEqual([]);
  });

  it('changes nothing on an instance, planning every step', async () => {
    lab = await pipelineLab();
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const before = await instanceState(lab, instance);

    const run = onlyRun((await lab.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);

    expect(run).toMatchObject({ status: 'succeeded', mode: 'plan' });
    expect(run.steps.map((step) => `${step.action}:${step.phase}`)).toEqual([
      'ec2.snapshot-volumes:plan',
      'autoscaling.standby-instance:plan',
      'elb.deregister-instance:plan',
      'ec2.isolate:plan',
      'ec2.capture-metadata:plan',
      'ec2.enable-termination-protection:plan',
      'iam.revoke-role-sessions:plan',
      'ec2.detach-instance-profile:plan',
      'ssm.collect-evidence:plan',
    ]);
    expect(await instanceState(lab, instance)).toEqual(before);
  });

  it('does not run automatic deliveries at all when automatic remediation is off', async () => {
    lab = await pipelineLab({ settings: { automatic: 'off' } });
    const event = eventFor(CIS, MEMBER);
    const result = await lab.pipeline.handleEvent(event);
    const run = onlyRun(result.findings[0]?.runs);
    expect(run).toMatchObject({ status: 'off', mode: 'off' });
    expect(run.runId).toBeUndefined();
    expect(lab.findingUpdates()).toEqual([]);
    // Read back: the finding is NEW and carries no note, as it was imported.
    expect(await heldFinding(event)).toEqual({ workflow: 'NEW', note: undefined });
  });
});
