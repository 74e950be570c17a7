import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  RunInstancesCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FORENSICS_KEY_ALIAS, snapshotVolumes, type SnapshotSharesUndo } from '../../src/actions/ec2-snapshot-volumes.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { AccountCalls } from '../support/account-calls.js';
import { actionContext, memberClients } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { createCustomerKey, describeKey, holdSnapshotsPending, type KeyMetadata } from '../support/emulator-ebs.js';

/**
 * ec2.snapshot-volumes giving encrypted evidence to a forensics account:
 * copies under the forensics key, shared, read back from the member account
 * and from the forensics account (a second account of the emulator, reached
 * by AssumeRole as Riposte reaches members). The emulator's EBS behaviour
 * (pending snapshots, keys of snapshots and copies, sharing refused for the
 * AWS managed key, what another account sees) is the launcher's, held to the
 * EBS documentation by test/emulator/ebs-snapshots.int.test.ts.
 */

const MEMBER = '222222222222';
const FORENSICS = '444455556666';

const snapshots = snapshotVolumes.behaviour;
const rollback = (ctx: ActionContext, undo: SnapshotSharesUndo): ReturnType<NonNullable<typeof snapshots.rollback>> => (snapshots.rollback as NonNullable<typeof snapshots.rollback>)(ctx, undo);
const wanted = snapshotVolumes.params.parse({ shareWithAccount: FORENSICS });

const ec2Of = (ctx: ActionContext): EC2Client => ctx.clients.create(EC2Client, ctx.target);
const tagsOf = (snapshot: Snapshot): Record<string, string> => Object.fromEntries((snapshot.Tags ?? []).map((tag): [string, string] => [tag.Key ?? '', tag.Value ?? '']));
const idsOf = (list: readonly Snapshot[]): string[] => list.map((snapshot) => snapshot.SnapshotId as string).sort();

interface Lab {
  readonly ctx: ActionContext;
  /** The forensics account's view: the same emulator, its own credentials. */
  readonly forensics: EC2Client;
  readonly instanceId: string;
  readonly rootVolumeId: string;
  readonly dataVolumeId: string;
  readonly forensicsKey: KeyMetadata;
}

/** In the member account: the forensics key (as the member template makes it), and an instance whose data volume is encrypted (`dataKey`: a key ARN, or the AWS managed key when undefined). */
async function lab(dataKey: 'customer' | 'aws-managed'): Promise<Lab & { dataKeyArn: string }> {
  const base = actionContext('guardduty-ec2-backdoor.json', MEMBER);
  const forensicsKey = await createCustomerKey(base.clients, MEMBER, FORENSICS_KEY_ALIAS);
  const ownerKey = dataKey === 'customer' ? await createCustomerKey(base.clients, MEMBER, 'alias/payments-data') : undefined;
  const ec2 = ec2Of(base);
  const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
  const instance = Instances?.[0];
  const instanceId = instance?.InstanceId as string;
  const { VolumeId, KmsKeyId } = await ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: instance?.Placement?.AvailabilityZone,
      Size: 10,
      Encrypted: true,
      ...(ownerKey === undefined ? {} : { KmsKeyId: ownerKey.Arn }),
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Team', Value: 'payments' }] }],
    }),
  );
  await ec2.send(new AttachVolumeCommand({ VolumeId, InstanceId: instanceId, Device: '/dev/sdf' }));
  const ctx: ActionContext = { ...base, resource: { ...base.resource, instanceId } };
  const forensics = ec2Of(actionContext('guardduty-ec2-backdoor.json', FORENSICS));
  return { ctx, forensics, instanceId, rootVolumeId: instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId as string, dataVolumeId: VolumeId as string, forensicsKey, dataKeyArn: KmsKeyId as string };
}

/** Every snapshot the member account owns for this instance: originals and copies. */
async function memberSnapshots(ctx: ActionContext, instanceId: string): Promise<Snapshot[]> {
  const { Snapshots } = await ec2Of(ctx).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:riposte:instance-id', Values: [instanceId] }] }));
  return Snapshots ?? [];
}

/** What the forensics account can create volumes from, of the member's snapshots. */
async function openToForensics(forensics: EC2Client): Promise<Snapshot[]> {
  const { Snapshots } = await forensics.send(new DescribeSnapshotsCommand({ OwnerIds: [MEMBER], RestorableByUserIds: ['self'] }));
  return Snapshots ?? [];
}

async function sharedWith(ctx: ActionContext, snapshotId: string): Promise<string[]> {
  const { CreateVolumePermissions } = await ec2Of(ctx).send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }));
  return (CreateVolumePermissions ?? []).map((permission) => permission.UserId as string);
}

function split(all: readonly Snapshot[], volumeId: string): { root: Snapshot; data: Snapshot; copy: Snapshot | undefined } {
  const originals = all.filter((snapshot) => tagsOf(snapshot)['riposte:evidence'] === 'true');
  const data = originals.find((snapshot) => tagsOf(snapshot)['riposte:volume-id'] === volumeId) as Snapshot;
  return {
    root: originals.find((snapshot) => snapshot !== data) as Snapshot,
    data,
    copy: all.find((snapshot) => tagsOf(snapshot)['riposte:copy-of'] === data.SnapshotId),
  };
}

describe('ec2.snapshot-volumes: encrypted evidence for the forensics account, against the emulator', () => {
  beforeEach(() => resetEmulator());
  afterEach(() => holdSnapshotsPending(undefined));

  it('copies the snapshot of a volume under a customer managed key into the forensics key, shares the copy (not the original), which the forensics account can describe; a second run changes nothing; rollback deletes only the copy and unshares', async () => {
    const { ctx, forensics, instanceId, dataVolumeId, forensicsKey, dataKeyArn } = await lab('customer');

    const plan = await snapshots.plan(ctx, wanted);
    expect(plan.changes.map((change) => change.field)).toContain(`copies.${dataVolumeId}`);

    const first = await snapshots.run(ctx, wanted);

    expect(first.inProgress).toBeUndefined();
    const made = await memberSnapshots(ctx, instanceId);
    const { root, data, copy } = split(made, dataVolumeId);
    expect(made).toHaveLength(3);
    // The original stays under the owner's key, unshared; the copy is under the forensics key, tagged with its original.
    expect(data).toMatchObject({ Encrypted: true, KmsKeyId: dataKeyArn });
    expect(copy).toMatchObject({ Encrypted: true, KmsKeyId: forensicsKey.Arn, State: 'completed' });
    const copyId = copy?.SnapshotId as string;
    expect(tagsOf(copy as Snapshot)).toEqual({
      'riposte:copy-of': data.SnapshotId,
      'riposte:finding-id': ctx.finding.id,
      'riposte:instance-id': instanceId,
      'riposte:volume-id': dataVolumeId,
      'riposte:device': '/dev/sdf',
      'riposte:run-id': 'r-test',
      Team: 'payments',
    });
    expect(tagsOf(data)['riposte:forensics-copy']).toBe(copyId);
    expect(copy?.Description).toContain(`copy of ${data.SnapshotId}`);
    expect(await sharedWith(ctx, data.SnapshotId as string)).toEqual([]);
    expect(await sharedWith(ctx, copyId)).toEqual([FORENSICS]);
    expect(await sharedWith(ctx, root.SnapshotId as string)).toEqual([FORENSICS]);
    // The forensics account, from its side: the unencrypted root snapshot and the copy, never the original under the owner's key.
    expect(idsOf(await openToForensics(forensics))).toEqual(idsOf([root, copy as Snapshot]));
    const { Snapshots: seen } = await forensics.send(new DescribeSnapshotsCommand({ SnapshotIds: [copyId] }));
    expect(seen).toMatchObject([{ SnapshotId: copyId, OwnerId: MEMBER, Encrypted: true, KmsKeyId: forensicsKey.Arn }]);
    // Recorded: the original and its copy, the shares; the undo names the copy and both shares.
    expect(first.changes).toEqual(
      expect.arrayContaining([
        { field: `snapshots.${dataVolumeId}`, from: null, to: data.SnapshotId },
        { field: `copies.${data.SnapshotId}`, from: null, to: { snapshotId: copyId, kmsKeyId: FORENSICS_KEY_ALIAS, sourceKmsKeyId: dataKeyArn } },
        { field: `shares.${copyId}`, from: null, to: FORENSICS },
        { field: `shares.${root.SnapshotId}`, from: null, to: FORENSICS },
      ]),
    );
    expect(first.undo).toEqual({ instanceId, account: FORENSICS, snapshotIds: idsOf([root, copy as Snapshot]), copyIds: [copyId] } satisfies SnapshotSharesUndo);
    expect(await snapshots.verify(ctx, wanted)).toMatchObject({ compliant: true });

    const second = await snapshots.run(ctx, wanted);

    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(second.undo).toBeUndefined();
    expect(idsOf(await memberSnapshots(ctx, instanceId))).toEqual(idsOf(made));
    expect((await snapshots.plan(ctx, wanted)).compliant).toBe(true);

    const undone = await rollback(ctx, first.undo as SnapshotSharesUndo);

    expect(undone.changed).toBe(true);
    expect(undone.changes).toEqual(
      expect.arrayContaining([
        { field: `shares.${root.SnapshotId}`, from: FORENSICS, to: null },
        { field: `shares.${copyId}`, from: FORENSICS, to: null },
        { field: `copies.${data.SnapshotId}`, from: copyId, to: null },
      ]),
    );
    const left = await memberSnapshots(ctx, instanceId);
    // Only the copy is gone: both originals stay, as evidence; the data original says what became of its copy.
    expect(idsOf(left)).toEqual(idsOf([root, data]));
    expect(tagsOf(split(left, dataVolumeId).data)['riposte:forensics-copy']).toBe(`${copyId} (deleted by rollback r-test)`);
    expect(await sharedWith(ctx, root.SnapshotId as string)).toEqual([]);
    expect(await openToForensics(forensics)).toEqual([]);
    expect(await rollback(ctx, first.undo as SnapshotSharesUndo)).toMatchObject({ changed: false, changes: [] });
  });

  it('copies the snapshot of a volume under the AWS managed key (which EBS refuses to share) and shares the copy', async () => {
    const { ctx, forensics, instanceId, dataVolumeId, forensicsKey, dataKeyArn } = await lab('aws-managed');
    expect((await describeKey(ctx.clients, MEMBER, dataKeyArn)).KeyManager).toBe('AWS');

    const outcome = await snapshots.run(ctx, wanted);

    const { data, copy } = split(await memberSnapshots(ctx, instanceId), dataVolumeId);
    expect(data.KmsKeyId).toBe(dataKeyArn);
    expect(copy).toMatchObject({ KmsKeyId: forensicsKey.Arn });
    expect(outcome.summary).not.toContain('failed');
    expect(idsOf(await openToForensics(forensics))).toContain(copy?.SnapshotId);
    expect(idsOf(await openToForensics(forensics))).not.toContain(data.SnapshotId);
    // Why the copy: the original itself cannot be shared.
    await expect(
      ec2Of(ctx).send(new ModifySnapshotAttributeCommand({ SnapshotId: data.SnapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [FORENSICS] })),
    ).rejects.toMatchObject({ name: 'OperationNotPermitted' });
    expect(await snapshots.verify(ctx, wanted)).toMatchObject({ compliant: true });
  });

  it('with the encrypted snapshot still pending, shares what it can, reports the step in progress, and on the next pass copies and shares; the last pass’s undo covers both passes, a third changes nothing', async () => {
    const { ctx, forensics, instanceId, dataVolumeId } = await lab('customer');
    await holdSnapshotsPending(1);

    const first = await snapshots.run(ctx, wanted);

    expect(first.inProgress).toMatchObject({ detail: expect.stringContaining('still pending') });
    expect(first.inProgress?.checkAfterSeconds).toBeGreaterThanOrEqual(30);
    expect(first.inProgress?.checkAfterSeconds).toBeLessThanOrEqual(900);
    // The emulator's first look at the snapshots: the encrypted one is still pending (the next look finds it completed).
    expect(await snapshots.verify(ctx, wanted)).toMatchObject({ compliant: false, summary: expect.stringMatching(/ is encrypted and still pending: its forensics copy is made once it completes$/) });
    const { root, data, copy: none } = split(await memberSnapshots(ctx, instanceId), dataVolumeId);
    expect(none).toBeUndefined();
    expect(await sharedWith(ctx, root.SnapshotId as string)).toEqual([FORENSICS]);
    expect(first.changes).toEqual(expect.arrayContaining([{ field: `shares.${root.SnapshotId}`, from: null, to: FORENSICS }]));

    const second = await snapshots.run(ctx, wanted);

    expect(second.inProgress).toBeUndefined();
    const { copy } = split(await memberSnapshots(ctx, instanceId), dataVolumeId);
    const copyId = copy?.SnapshotId as string;
    expect(second.changes).toEqual([
      { field: `copies.${data.SnapshotId}`, from: null, to: expect.objectContaining({ snapshotId: copyId }) },
      { field: `shares.${copyId}`, from: null, to: FORENSICS },
    ]);
    // The pipeline keeps the undo of the step's last record only: it names the first pass's share too.
    expect(second.undo).toEqual({ instanceId, account: FORENSICS, snapshotIds: idsOf([root, copy as Snapshot]), copyIds: [copyId] });
    expect(idsOf(await openToForensics(forensics))).toEqual(idsOf([root, copy as Snapshot]));

    const third = await snapshots.run(ctx, wanted);

    expect(third).toMatchObject({ changed: false, changes: [] });
    expect(third.inProgress).toBeUndefined();
    expect(await memberSnapshots(ctx, instanceId)).toHaveLength(3);
  });

  it('names a forensics key EBS cannot use: the copy ends in error, verify says so, and rollback deletes it', async () => {
    const { ctx, instanceId, dataVolumeId } = await lab('customer');
    const elsewhere = snapshotVolumes.params.parse({ shareWithAccount: FORENSICS, forensicsKmsKey: 'alias/not-deployed' });

    const outcome = await snapshots.run(ctx, elsewhere);

    const { copy } = split(await memberSnapshots(ctx, instanceId), dataVolumeId);
    expect(copy?.State).toBe('error');
    const verified = await snapshots.verify(ctx, elsewhere);
    expect(verified.compliant).toBe(false);
    expect(verified.summary).toContain(`the forensics copy ${copy?.SnapshotId}`);
    expect(verified.summary).toContain('alias/not-deployed');
    await rollback(ctx, outcome.undo as SnapshotSharesUndo);
    expect(split(await memberSnapshots(ctx, instanceId), dataVolumeId).copy).toBeUndefined();
  });

  it('makes each call of a pass once: 9 EC2 calls for a root and an encrypted data volume, none of them a repeat', async () => {
    const { ctx } = await lab('customer');
    const calls = new AccountCalls('123456789012');
    const counted: ActionContext = { ...ctx, clients: memberClients([calls.plugin]) };

    await snapshots.run(counted, wanted);

    const made = calls.in(MEMBER).flatMap((call) => (call.operation.startsWith('EC2Client:') ? [call.operation.slice('EC2Client:'.length).replace(/Command$/, '')] : []));
    // Sequentially: DescribeInstances; DescribeVolumes ∥ DescribeSnapshots; CreateSnapshot ×2; share root ∥ CopySnapshot;
    // tag the original ∥ share the copy: 5 round trips (a fresh snapshot is known unshared: no DescribeSnapshotAttribute).
    expect(made.sort()).toEqual(
      ['DescribeInstances', 'DescribeVolumes', 'DescribeSnapshots', 'CreateSnapshot', 'CreateSnapshot', 'ModifySnapshotAttribute', 'CopySnapshot', 'CreateTags', 'ModifySnapshotAttribute'].sort(),
    );
  });

  it('refuses an AWS managed key, or what is no key reference, as the forensics key', () => {
    expect(snapshotVolumes.params.safeParse({ forensicsKmsKey: 'alias/aws/ebs' }).success).toBe(false);
    expect(snapshotVolumes.params.safeParse({ forensicsKmsKey: 'arn:aws:kms:us-east-1:222222222222:alias/aws/ebs' }).success).toBe(false);
    expect(snapshotVolumes.params.safeParse({ forensicsKmsKey: 'riposte-forensics' }).success).toBe(false);
    expect(snapshotVolumes.params.parse({}).forensicsKmsKey).toBe('alias/riposte-forensics');
    expect(snapshotVolumes.params.safeParse({ forensicsKmsKey: 'arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab' }).success).toBe(true);
  });
});
