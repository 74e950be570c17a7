import { createHash } from 'node:crypto';

import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  GetConsoleScreenshotCommand,
  RunInstancesCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

import { captureMetadata, type EvidenceManifest } from '../../src/actions/ec2-capture-metadata.js';
import { snapshotVolumes } from '../../src/actions/ec2-snapshot-volumes.js';
import { EvidenceBucketNotConfiguredError, InstanceNotFoundError } from '../../src/actions/index.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';

const MEMBER = '222222222222';
const FORENSICS = '444455556666';
const BUCKET = 'riposte-evidence-test';
const MISSING_INSTANCE = 'i-0123456789abcdef0';

const snapshots = snapshotVolumes.behaviour;
const capture = captureMetadata.behaviour;

const baseContext = (): ActionContext => actionContext('guardduty-ec2-backdoor.json', MEMBER);
const onInstance = (ctx: ActionContext, instanceId: string): ActionContext => ({ ...ctx, resource: { ...ctx.resource, instanceId } });
const ec2Of = (ctx: ActionContext): EC2Client => ctx.clients.create(EC2Client, ctx.target);
const hostingS3 = (ctx: ActionContext): S3Client => ctx.hosting.factory.create(S3Client, {}, { forcePathStyle: true });
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const tagsOf = (snapshot: Snapshot): Record<string, string> => Object.fromEntries((snapshot.Tags ?? []).map((tag): [string, string] => [tag.Key ?? '', tag.Value ?? '']));

/** The evidence bucket, in the hosting account (moto's default, 123456789012). */
async function createEvidenceBucket(ctx: ActionContext): Promise<void> {
  await hostingS3(ctx).send(new CreateBucketCommand({ Bucket: BUCKET }));
}

/** An instance in the member account with its root volume and a tagged data volume at /dev/sdf. */
async function instanceWithTwoVolumes(): Promise<{ ctx: ActionContext; instanceId: string; rootVolumeId: string; dataVolumeId: string }> {
  const base = baseContext();
  const ec2 = ec2Of(base);
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web-1' }] }],
    }),
  );
  const instance = Instances?.[0];
  const instanceId = instance?.InstanceId as string;
  const rootVolumeId = instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId as string;
  const { VolumeId: dataVolumeId } = await ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: instance?.Placement?.AvailabilityZone,
      Size: 10,
      TagSpecifications: [
        {
          ResourceType: 'volume',
          Tags: [
            { Key: 'Team', Value: 'payments' },
            { Key: 'Environment', Value: 'prod' },
          ],
        },
      ],
    }),
  );
  await ec2.send(new AttachVolumeCommand({ VolumeId: dataVolumeId, InstanceId: instanceId, Device: '/dev/sdf' }));
  return { ctx: onInstance(base, instanceId), instanceId, rootVolumeId, dataVolumeId: dataVolumeId as string };
}

async function snapshotsOf(ctx: ActionContext, volumeIds: string[]): Promise<Snapshot[]> {
  const { Snapshots } = await ec2Of(ctx).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: volumeIds }] }));
  return Snapshots ?? [];
}

async function readText(ctx: ActionContext, key: string): Promise<{ bytes: Uint8Array; metadata: Record<string, string> }> {
  const response = await hostingS3(ctx).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { bytes: (await response.Body?.transformToByteArray()) ?? new Uint8Array(), metadata: response.Metadata ?? {} };
}

async function keysIn(ctx: ActionContext): Promise<string[]> {
  const { Contents } = await hostingS3(ctx).send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (Contents ?? []).map((object) => object.Key as string).sort();
}

describe('ec2.snapshot-volumes against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('plans, snapshots both volumes tagged as evidence, shares them, verifies, changes nothing the second time; rollback unshares and keeps the snapshots', async () => {
    const { ctx, instanceId, rootVolumeId, dataVolumeId } = await instanceWithTwoVolumes();
    const wanted = snapshotVolumes.params.parse({ shareWithAccount: FORENSICS });

    const plan = await snapshots.plan(ctx, wanted);
    expect(plan.compliant).toBe(false);
    expect(plan.resource).toBe(`arn:aws:ec2:us-east-1:${MEMBER}:instance/${instanceId}`);
    expect(plan.changes.map((change) => change.field).sort()).toEqual([`snapshots.${rootVolumeId}`, `snapshots.${dataVolumeId}`].sort());
    expect(plan.summary).toContain('/dev/sdf');
    expect(await snapshotsOf(ctx, [rootVolumeId, dataVolumeId])).toEqual([]); // plan creates nothing
    expect((await snapshots.verify(ctx, wanted)).compliant).toBe(false);

    const first = await snapshots.run(ctx, wanted);

    expect(first.changed).toBe(true);
    const made = await snapshotsOf(ctx, [rootVolumeId, dataVolumeId]);
    // What a rollback takes back: the shares (never the snapshots).
    expect(first.undo).toEqual({ instanceId, account: FORENSICS, snapshotIds: expect.arrayContaining(made.map((snapshot) => snapshot.SnapshotId)) });
    expect(made).toHaveLength(2);
    const byVolume = new Map(made.map((snapshot) => [snapshot.VolumeId, snapshot]));
    const root = byVolume.get(rootVolumeId) as Snapshot;
    const data = byVolume.get(dataVolumeId) as Snapshot;
    expect(first.changes).toEqual(
      expect.arrayContaining([
        { field: `snapshots.${rootVolumeId}`, from: null, to: root.SnapshotId },
        { field: `snapshots.${dataVolumeId}`, from: null, to: data.SnapshotId },
        { field: `shares.${root.SnapshotId}`, from: null, to: FORENSICS },
        { field: `shares.${data.SnapshotId}`, from: null, to: FORENSICS },
      ]),
    );
    expect(first.summary).toContain(root.SnapshotId);
    expect(first.summary).toContain(data.SnapshotId);
    const common = { 'riposte:finding-id': ctx.finding.id, 'riposte:instance-id': instanceId, 'riposte:run-id': 'r-test', 'riposte:evidence': 'true' };
    expect(tagsOf(root)).toEqual({ ...common, 'riposte:volume-id': rootVolumeId, 'riposte:device': '/dev/sda1' });
    expect(tagsOf(data)).toEqual({ ...common, 'riposte:volume-id': dataVolumeId, 'riposte:device': '/dev/sdf', Team: 'payments', Environment: 'prod' });
    expect(data.Description).toContain(ctx.finding.id);
    expect(data.Description).toContain('run r-test');
    for (const snapshot of made) {
      const { CreateVolumePermissions } = await ec2Of(ctx).send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshot.SnapshotId, Attribute: 'createVolumePermission' }));
      expect(CreateVolumePermissions).toEqual([{ UserId: FORENSICS }]);
    }
    expect(await snapshots.verify(ctx, wanted)).toMatchObject({ compliant: true });

    const second = await snapshots.run(ctx, wanted);

    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(second.summary).toContain(root.SnapshotId);
    expect((await snapshots.plan(ctx, wanted)).compliant).toBe(true);
    // Nothing deleted, nothing added: the same two snapshots, both volumes, the instance.
    expect((await snapshotsOf(ctx, [rootVolumeId, dataVolumeId])).map((snapshot) => snapshot.SnapshotId).sort()).toEqual(made.map((snapshot) => snapshot.SnapshotId).sort());
    expect((await ec2Of(ctx).send(new DescribeVolumesCommand({ VolumeIds: [rootVolumeId, dataVolumeId] }))).Volumes).toHaveLength(2);
    expect((await ec2Of(ctx).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('running');

    // Rollback: the forensics account loses access; the snapshots stay, as evidence. A second rollback has nothing to take back.
    const rolledBack = await (snapshots.rollback as NonNullable<typeof snapshots.rollback>)(ctx, first.undo as never);
    expect(rolledBack.changed).toBe(true);
    expect(rolledBack.changes).toEqual(expect.arrayContaining(made.map((snapshot) => ({ field: `shares.${snapshot.SnapshotId}`, from: FORENSICS, to: null }))));
    for (const snapshot of made) {
      const { CreateVolumePermissions } = await ec2Of(ctx).send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshot.SnapshotId, Attribute: 'createVolumePermission' }));
      expect(CreateVolumePermissions ?? []).toEqual([]);
    }
    expect((await snapshotsOf(ctx, [rootVolumeId, dataVolumeId])).map((snapshot) => snapshot.SnapshotId).sort()).toEqual(made.map((snapshot) => snapshot.SnapshotId).sort());
    expect(await (snapshots.rollback as NonNullable<typeof snapshots.rollback>)(ctx, first.undo as never)).toMatchObject({ changed: false, changes: [] });
  });

  it("leaves the volume's tags off when copyTags is false, truncates a long finding id to 256 characters, and shares nothing unasked", async () => {
    const { ctx: onIt, dataVolumeId } = await instanceWithTwoVolumes();
    const ctx: ActionContext = { ...onIt, finding: { ...onIt.finding, id: `arn:aws:guardduty:${'x'.repeat(300)}` } };
    const wanted = snapshotVolumes.params.parse({ copyTags: false });

    await snapshots.run(ctx, wanted);

    const [data] = await snapshotsOf(ctx, [dataVolumeId]);
    const tags = tagsOf(data as Snapshot);
    expect(tags.Team).toBeUndefined();
    expect(tags['riposte:finding-id']).toBe(ctx.finding.id.slice(0, 256));
    expect((data?.Description ?? '').length).toBeLessThanOrEqual(255);
    const { CreateVolumePermissions } = await ec2Of(ctx).send(new DescribeSnapshotAttributeCommand({ SnapshotId: data?.SnapshotId, Attribute: 'createVolumePermission' }));
    expect(CreateVolumePermissions).toEqual([]);
    expect(await snapshots.verify(ctx, wanted)).toMatchObject({ compliant: true });
  });

  it("does not count another run's snapshots as this run's evidence", async () => {
    const { ctx, rootVolumeId, dataVolumeId } = await instanceWithTwoVolumes();
    const wanted = snapshotVolumes.params.parse({});
    await snapshots.run({ ...ctx, runId: 'r-earlier' }, wanted);

    const outcome = await snapshots.run(ctx, wanted);

    expect(outcome.changed).toBe(true);
    expect(await snapshotsOf(ctx, [rootVolumeId, dataVolumeId])).toHaveLength(4);
  });

  it('throws InstanceNotFoundError, with account, region and instance, for an instance that does not exist', async () => {
    const ctx = onInstance(baseContext(), MISSING_INSTANCE);
    const wanted = snapshotVolumes.params.parse({});

    const error: unknown = await snapshots.run(ctx, wanted).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InstanceNotFoundError);
    expect(error).toMatchObject({
      code: 'EC2_INSTANCE_NOT_FOUND',
      instanceId: MISSING_INSTANCE,
      context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/${MISSING_INSTANCE}`, step: 'ec2.snapshot-volumes' },
    });
    await expect(snapshots.plan(ctx, wanted)).rejects.toBeInstanceOf(InstanceNotFoundError);
  });
});

describe('ec2.capture-metadata against the emulator, in member account 222222222222 with the evidence bucket in the hosting account', () => {
  beforeEach(() => resetEmulator());

  it('writes every evidence object with a SHA-256 that matches its bytes, its .sha256 and its metadata, verifies, detects tampering, and writes nothing the second time', async () => {
    const { ctx, instanceId, dataVolumeId } = await instanceWithTwoVolumes();
    await createEvidenceBucket(ctx);
    const wanted = captureMetadata.params.parse({});
    const prefix = `evidence/${MEMBER}/${instanceId}/r-test/`;

    const plan = await capture.plan(ctx, wanted);
    expect(plan.compliant).toBe(false);
    expect(await keysIn(ctx)).toEqual([]); // plan writes nothing
    expect((await capture.verify(ctx, wanted)).compliant).toBe(false);

    const first = await capture.run(ctx, wanted);

    expect(first.changed).toBe(true);
    const names = ['instance', 'volumes', 'network-interfaces', 'security-groups', 'iam-instance-profile-associations', 'tags', 'console-output', 'console-screenshot', 'manifest'];
    expect(first.changes.map((change) => change.field)).toEqual(names.map((name) => `evidence.${name}`));
    for (const change of first.changes) {
      const { key, sha256: recorded } = change.to as { key: string; sha256: string };
      expect(key.startsWith(prefix)).toBe(true);
      const object = await readText(ctx, key);
      expect(sha256(object.bytes)).toBe(recorded);
      expect(object.metadata.sha256).toBe(recorded);
      const sidecar = Buffer.from((await readText(ctx, `${key}.sha256`)).bytes).toString('utf8');
      expect(sidecar.split(/\s+/)[0]).toBe(recorded);
    }
    expect(await keysIn(ctx)).toEqual(names.flatMap((name) => [`${prefix}${name}.json`, `${prefix}${name}.json.sha256`]).sort());

    const read = async <T>(name: string): Promise<T> => JSON.parse(Buffer.from((await readText(ctx, `${prefix}${name}.json`)).bytes).toString('utf8')) as T;
    const manifest = await read<EvidenceManifest>('manifest');
    expect(manifest.objects.map((object) => object.key)).toEqual(names.slice(0, -1).map((name) => `${prefix}${name}.json`));
    expect(manifest).toMatchObject({ bucket: BUCKET, account: MEMBER, instanceId, runId: 'r-test', findingId: ctx.finding.id });
    expect((await read<{ data: { InstanceId: string } }>('instance')).data.InstanceId).toBe(instanceId);
    expect((await read<{ data: Array<{ VolumeId: string }> }>('volumes')).data.map((volume) => volume.VolumeId)).toContain(dataVolumeId);
    expect((await read<{ data: unknown[] }>('network-interfaces')).data).toHaveLength(1);
    expect((await read<{ data: Array<{ GroupName: string }> }>('security-groups')).data.map((group) => group.GroupName)).toEqual(['default']);
    expect((await read<{ data: Record<string, string> }>('tags')).data).toEqual({ Name: 'web-1' });
    // moto 5.2.1 sends the sample console output base64-encoded, as AWS does.
    const consoleOutput = await read<{ source: string; data: { format: string; output: string } }>('console-output');
    expect(consoleOutput.data.format).toBe('base64');
    expect(consoleOutput.data.output).toContain('Linux version');
    // Emulator gap: moto has no GetConsoleScreenshot (it answers an HTML 500), which the client factory
    // turns into EmulatorUnsupportedOperationError; the evidence records the screenshot as unavailable.
    const screenshot = await read<{ data: { available: boolean; reason: string } }>('console-screenshot');
    expect(screenshot.data.available).toBe(false);
    expect(screenshot.data.reason).toMatch(/^screenshot unavailable: EmulatorUnsupportedOperationError: the emulator does not implement EC2\.GetConsoleScreenshot/);
    expect(first.summary).toContain('screenshot unavailable');

    expect(await capture.verify(ctx, wanted)).toMatchObject({ compliant: true });

    const second = await capture.run(ctx, wanted);
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect((await capture.plan(ctx, wanted)).compliant).toBe(true);

    await hostingS3(ctx).send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}volumes.json`, Body: '{"data":[]}\n' }));
    const tampered = await capture.verify(ctx, wanted);
    expect(tampered.compliant).toBe(false);
    expect(tampered.summary).toContain(`${prefix}volumes.json`);
  });

  it('stores the console screenshot where EC2 returns one (exact request asserted)', async () => {
    // Emulator gap: moto does not implement GetConsoleScreenshot. Only that command
    // is mocked (aws-sdk-client-mock); every other call goes through to moto.
    const { ctx, instanceId } = await instanceWithTwoVolumes();
    await createEvidenceBucket(ctx);
    const ec2 = mockClient(ec2Of(ctx));
    ec2.send.callThrough();
    ec2.on(GetConsoleScreenshotCommand).resolves({ InstanceId: instanceId, ImageData: 'iVBORw0KGgo=' });
    try {
      await capture.run(ctx, captureMetadata.params.parse({ consoleOutput: false }));

      expect(ec2.commandCalls(GetConsoleScreenshotCommand).map((call) => call.args[0].input)).toEqual([{ InstanceId: instanceId, WakeUp: false }]);
      const key = `evidence/${MEMBER}/${instanceId}/r-test/console-screenshot.json`;
      const evidence = JSON.parse(Buffer.from((await readText(ctx, key)).bytes).toString('utf8')) as { data: unknown };
      expect(evidence.data).toEqual({ available: true, format: 'image/jpeg;base64', imageData: 'iVBORw0KGgo=' });
    } finally {
      ec2.restore();
    }
  });

  it('captures without console output or screenshot when asked not to', async () => {
    const { ctx } = await instanceWithTwoVolumes();
    await createEvidenceBucket(ctx);

    const outcome = await capture.run(ctx, captureMetadata.params.parse({ consoleOutput: false, screenshot: false }));

    expect(outcome.changes.map((change) => change.field)).not.toContain('evidence.console-output');
    expect(outcome.changes.map((change) => change.field)).not.toContain('evidence.console-screenshot');
    expect(await capture.verify(ctx, captureMetadata.params.parse({}))).toMatchObject({ compliant: true });
  });

  it('keeps an object an interrupted attempt of the same run already wrote, and records its digest, never overwriting it', async () => {
    const { ctx, instanceId } = await instanceWithTwoVolumes();
    await createEvidenceBucket(ctx);
    const key = `evidence/${MEMBER}/${instanceId}/r-test/volumes.json`;
    const earlier = Buffer.from('{"from":"the earlier attempt"}\n');
    await hostingS3(ctx).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: earlier }));

    const outcome = await capture.run(ctx, captureMetadata.params.parse({}));

    expect((await readText(ctx, key)).bytes).toEqual(new Uint8Array(earlier));
    expect(outcome.changes).toContainEqual({ field: 'evidence.volumes', from: null, to: { key, sha256: sha256(earlier) } });
    expect(outcome.summary).toContain('kept from an earlier attempt of this run: volumes');
    expect(await capture.verify(ctx, captureMetadata.params.parse({}))).toMatchObject({ compliant: true });
  });

  it('reports a deleted evidence object in verify', async () => {
    const { ctx, instanceId } = await instanceWithTwoVolumes();
    await createEvidenceBucket(ctx);
    const wanted = captureMetadata.params.parse({});
    await capture.run(ctx, wanted);
    const key = `evidence/${MEMBER}/${instanceId}/r-test/tags.json`;
    await hostingS3(ctx).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));

    expect(await capture.verify(ctx, wanted)).toMatchObject({ compliant: false, summary: expect.stringContaining(`${key} is missing`) });
  });

  it('throws InstanceNotFoundError for an instance that does not exist, and writes nothing', async () => {
    const ctx = onInstance(baseContext(), MISSING_INSTANCE);
    await createEvidenceBucket(ctx);

    const error: unknown = await capture.run(ctx, captureMetadata.params.parse({})).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InstanceNotFoundError);
    expect(error).toMatchObject({ context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/${MISSING_INSTANCE}`, step: 'ec2.capture-metadata' } });
    expect(await keysIn(ctx)).toEqual([]);
  });

  it('throws EvidenceBucketNotConfiguredError when no evidence bucket is configured', async () => {
    const { ctx } = await instanceWithTwoVolumes();
    const unconfigured: ActionContext = { ...ctx, hosting: { factory: ctx.hosting.factory } };

    await expect(capture.run(unconfigured, captureMetadata.params.parse({}))).rejects.toMatchObject({
      name: 'EvidenceBucketNotConfiguredError',
      code: 'ACTION_EVIDENCE_BUCKET_NOT_CONFIGURED',
      context: { account: MEMBER, field: 'hosting.evidenceBucket' },
    });
    await expect(capture.verify(unconfigured, captureMetadata.params.parse({}))).rejects.toBeInstanceOf(EvidenceBucketNotConfiguredError);
  });
});
