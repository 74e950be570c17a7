import { CopySnapshotCommand, CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, EC2Client, ModifySnapshotAttributeCommand, type Snapshot } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { createCustomerKey, describeKey, holdSnapshotsPending } from '../support/emulator-ebs.js';

/**
 * What the launcher (src/emulator/moto_riposte.py, its EBS section) changes in moto's EBS
 * snapshots, checked against the Amazon EBS documentation and the EC2 API reference through
 * the SDK. Each documented fact a test relies on is quoted with its page; if the launcher
 * drifts from it, the test fails.
 */

const MEMBER = '222222222222';
const FORENSICS = '444455556666';

const member = (): ActionContext => actionContext('guardduty-ec2-backdoor.json', MEMBER);
const ec2Of = (ctx: ActionContext): EC2Client => ctx.clients.create(EC2Client, ctx.target);
const errorOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

async function snapshotOf(ec2: EC2Client, options: { encrypted: boolean; kmsKeyId?: string }): Promise<Snapshot> {
  const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, Encrypted: options.encrypted, KmsKeyId: options.kmsKeyId }));
  return ec2.send(new CreateSnapshotCommand({ VolumeId }));
}

const describeOne = async (ec2: EC2Client, snapshotId: string): Promise<Snapshot | undefined> => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.[0];

beforeEach(() => resetEmulator());
afterEach(() => holdSnapshotsPending(undefined));

describe('emulated EBS snapshot keys', () => {
  it('puts a snapshot of an encrypted volume under the volume’s key, and the default EBS key is AWS managed', async () => {
    const ctx = member();
    const ec2 = ec2Of(ctx);
    const key = await createCustomerKey(ctx.clients, MEMBER);

    const underCustomerKey = await snapshotOf(ec2, { encrypted: true, kmsKeyId: key.Arn });
    const underDefault = await snapshotOf(ec2, { encrypted: true });

    // API_Snapshot KmsKeyId: "The Amazon Resource Name (ARN) of the KMS key that was used to protect the volume encryption key for the parent volume."
    expect(underCustomerKey).toMatchObject({ Encrypted: true, KmsKeyId: key.Arn });
    // EBS User Guide, "Amazon EBS encryption": the default key is "an AWS managed key ... alias aws/ebs".
    expect(await describeKey(ctx.clients, MEMBER, underDefault.KmsKeyId as string)).toMatchObject({ KeyManager: 'AWS' });
    expect(await describeKey(ctx.clients, MEMBER, 'alias/aws/ebs')).toMatchObject({ Arn: underDefault.KmsKeyId });
  });
});

describe('emulated ModifySnapshotAttribute on encrypted snapshots', () => {
  it('refuses to share a snapshot under the default (AWS managed) key, and shares one under a customer managed key', async () => {
    const ctx = member();
    const ec2 = ec2Of(ctx);
    const key = await createCustomerKey(ctx.clients, MEMBER);
    const underDefault = await snapshotOf(ec2, { encrypted: true });
    const underCustomerKey = await snapshotOf(ec2, { encrypted: true, kmsKeyId: key.Arn });
    const share = (snapshotId: string | undefined) =>
      ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [FORENSICS] }));

    // API_ModifySnapshotAttribute: "Snapshots encrypted with your default KMS key cannot be shared with other accounts."
    // (OperationNotPermitted "Encrypted snapshots with EBS default key cannot be shared", as AWS answers it.)
    expect(await errorOf(share(underDefault.SnapshotId))).toMatchObject({ name: 'OperationNotPermitted', message: 'Encrypted snapshots with EBS default key cannot be shared' });
    await share(underCustomerKey.SnapshotId);
  });
});

describe('emulated CopySnapshot', () => {
  it('copies under the key asked for (resolved to its ARN), with an arbitrary volume id; needs Encrypted with a KmsKeyId; keeps the source’s key without one', async () => {
    const ctx = member();
    const ec2 = ec2Of(ctx);
    const owner = await createCustomerKey(ctx.clients, MEMBER);
    const forensics = await createCustomerKey(ctx.clients, MEMBER, 'alias/riposte-forensics');
    const source = await snapshotOf(ec2, { encrypted: true, kmsKeyId: owner.Arn });
    const copy = (input: { KmsKeyId?: string; Encrypted?: boolean }) => ec2.send(new CopySnapshotCommand({ SourceSnapshotId: source.SnapshotId, SourceRegion: 'us-east-1', ...input }));

    // API_CopySnapshot KmsKeyId: "If KmsKeyId is specified, the encrypted state must be true."
    expect(await errorOf(copy({ KmsKeyId: 'alias/riposte-forensics' }))).toMatchObject({ name: 'InvalidParameterDependency' });
    const underForensicsKey = await copy({ KmsKeyId: 'alias/riposte-forensics', Encrypted: true });
    const sameKey = await copy({});

    // "You can specify the KMS key using ... Key alias ... Key ARN"; "Snapshots created by the CopySnapshot action have an
    // arbitrary volume ID that should not be used for any purpose."
    expect(await describeOne(ec2, underForensicsKey.SnapshotId as string)).toMatchObject({ Encrypted: true, KmsKeyId: forensics.Arn, VolumeId: 'vol-ffffffff', State: 'completed' });
    expect(await describeOne(ec2, sameKey.SnapshotId as string)).toMatchObject({ Encrypted: true, KmsKeyId: owner.Arn });
  });

  it('fails the copy, not the call, for a key EBS cannot use', async () => {
    const ctx = member();
    const ec2 = ec2Of(ctx);
    const source = await snapshotOf(ec2, { encrypted: true });

    const { SnapshotId } = await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: source.SnapshotId, SourceRegion: 'us-east-1', KmsKeyId: 'alias/not-there', Encrypted: true }));

    // API_CopySnapshot KmsKeyId: "Amazon Web Services parses KmsKeyId asynchronously, meaning that the action you call may
    // appear to complete even though you provided an invalid identifier. The action will eventually fail."
    expect((await describeOne(ec2, SnapshotId as string))?.State).toBe('error');
  });

  it('copies a snapshot only once it is completed; a held snapshot is pending for its first DescribeSnapshots', async () => {
    const ctx = member();
    const ec2 = ec2Of(ctx);
    await holdSnapshotsPending(1);
    const source = await snapshotOf(ec2, { encrypted: false });
    expect(source.State).toBe('pending');

    // EBS User Guide, "Copy an Amazon EBS snapshot": "After you create a snapshot, and it has reached the completed state,
    // you can create a copy of it." (IncorrectState "... is in invalid state - pending", as EBS answers for a pending snapshot.)
    expect(await errorOf(ec2.send(new CopySnapshotCommand({ SourceSnapshotId: source.SnapshotId, SourceRegion: 'us-east-1' })))).toMatchObject({ name: 'IncorrectState' });
    expect((await describeOne(ec2, source.SnapshotId as string))?.State).toBe('pending');
    expect((await describeOne(ec2, source.SnapshotId as string))?.State).toBe('completed');
    await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: source.SnapshotId, SourceRegion: 'us-east-1' }));
  });
});

describe('emulated DescribeSnapshots across accounts', () => {
  it('shows another account the snapshots shared with it (and only those), scoped by OwnerIds and RestorableByUserIds', async () => {
    const ctx = member();
    const ec2 = ec2Of(ctx);
    const forensics = ec2Of(actionContext('guardduty-ec2-backdoor.json', FORENSICS));
    const shared = await snapshotOf(ec2, { encrypted: false });
    const kept = await snapshotOf(ec2, { encrypted: false });
    await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: shared.SnapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [FORENSICS] }));
    const ids = (list: Snapshot[] | undefined): string[] => (list ?? []).map((snapshot) => snapshot.SnapshotId as string);

    // API_DescribeSnapshots: "The snapshots available to you include public snapshots, private snapshots that you own, and
    // private snapshots owned by other Amazon Web Services accounts for which you have explicit create volume permissions."
    expect(ids((await forensics.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['self'], OwnerIds: [MEMBER] }))).Snapshots)).toEqual([shared.SnapshotId]);
    expect(ids((await forensics.send(new DescribeSnapshotsCommand({ OwnerIds: [MEMBER] }))).Snapshots)).toEqual([shared.SnapshotId]);
    // "If you specify one or more snapshot owners using the OwnerIds option, only snapshots from the specified owners and for which you have access are returned."
    expect(ids((await forensics.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots)).toEqual([]);
    // "If you specify a snapshot ID for which you do not have access, it is not included in the returned results."
    expect(ids((await forensics.send(new DescribeSnapshotsCommand({ SnapshotIds: [shared.SnapshotId as string, kept.SnapshotId as string] }))).Snapshots)).toEqual([shared.SnapshotId]);
    // "If you specify an invalid snapshot ID, an error is returned."
    expect(await errorOf(forensics.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-0123456789abcdef0'] })))).toMatchObject({ name: 'InvalidSnapshot.NotFound' });
    // The owner sees both with OwnerIds self; the explicit permission with RestorableByUserIds naming the account.
    expect(ids((await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots).sort()).toEqual([shared.SnapshotId, kept.SnapshotId].sort());
    expect(ids((await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], RestorableByUserIds: [FORENSICS] }))).Snapshots)).toEqual([shared.SnapshotId]);
  });
});
