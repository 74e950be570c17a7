import {
  CreateSnapshotCommand,
  DescribeSnapshotAttributeCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type Snapshot,
  type Tag,
} from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { describeInstance } from './ec2-instance.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

const ACTION = 'ec2.snapshot-volumes';

const params = z.strictObject({
  copyTags: z._default(z.boolean(), true),
  shareWithAccount: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))),
});
type Params = z.output<typeof params>;

/** Tag keys Riposte puts on every evidence snapshot; DescribeSnapshots finds a run's snapshots by them. */
export const EvidenceTag = {
  FindingId: 'riposte:finding-id',
  InstanceId: 'riposte:instance-id',
  VolumeId: 'riposte:volume-id',
  Device: 'riposte:device',
  RunId: 'riposte:run-id',
  Evidence: 'riposte:evidence',
} as const;

// EC2 limits: 50 tags a resource, 256 characters a tag value, 255 a snapshot description.
const MAX_TAGS = 50;
const MAX_TAG_VALUE = 256;
const MAX_DESCRIPTION = 255;
/** Snapshot states that hold (or will hold) the volume's data; `error` ones do not count as evidence. */
const USABLE_STATES = new Set(['pending', 'completed']);

const truncate = (value: string, max: number): string => {
  const characters = Array.from(value);
  return characters.length <= max ? value : characters.slice(0, max).join('');
};

interface AttachedVolume {
  readonly volumeId: string;
  readonly device: string;
  readonly tags: readonly Tag[];
}

interface EvidenceState {
  readonly instanceId: string;
  readonly volumes: readonly AttachedVolume[];
  /** This run's usable evidence snapshot for each volume that has one. */
  readonly snapshots: ReadonlyMap<string, Snapshot>;
}

async function attachedVolumes(ec2: EC2Client, instanceId: string): Promise<AttachedVolume[]> {
  const volumes: AttachedVolume[] = [];
  for await (const page of paginateDescribeVolumes({ client: ec2 }, { Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] })) {
    for (const volume of page.Volumes ?? []) {
      if (volume.VolumeId === undefined) continue;
      const attachment = volume.Attachments?.find((candidate) => candidate.InstanceId === instanceId);
      volumes.push({ volumeId: volume.VolumeId, device: attachment?.Device ?? 'unknown', tags: volume.Tags ?? [] });
    }
  }
  return volumes.sort((a, b) => a.device.localeCompare(b.device));
}

async function evidenceSnapshots(ec2: EC2Client, context: ActionContext, instanceId: string): Promise<Map<string, Snapshot>> {
  const byVolume = new Map<string, Snapshot>();
  const filters = [
    { Name: `tag:${EvidenceTag.Evidence}`, Values: ['true'] },
    // This run's, or an earlier attempt's at the same work (a retry): a snapshot the killed attempt took is not taken again.
    { Name: `tag:${EvidenceTag.RunId}`, Values: [context.runId, ...(context.earlierRunIds ?? [])] },
    { Name: `tag:${EvidenceTag.InstanceId}`, Values: [instanceId] },
  ];
  for await (const page of paginateDescribeSnapshots({ client: ec2 }, { OwnerIds: ['self'], Filters: filters })) {
    for (const snapshot of page.Snapshots ?? []) {
      if (!USABLE_STATES.has(snapshot.State ?? '')) continue;
      const volumeId = snapshot.VolumeId ?? snapshot.Tags?.find((tag) => tag.Key === EvidenceTag.VolumeId)?.Value;
      if (volumeId === undefined) continue;
      const known = byVolume.get(volumeId);
      // Prefer a completed snapshot over a pending one of the same volume.
      if (known === undefined || (known.State !== 'completed' && snapshot.State === 'completed')) byVolume.set(volumeId, snapshot);
    }
  }
  return byVolume;
}

async function readState(context: ActionContext, ec2: EC2Client): Promise<EvidenceState> {
  const instance = await describeInstance(ACTION, context);
  const instanceId = instance.InstanceId as string;
  const [volumes, snapshots] = await Promise.all([attachedVolumes(ec2, instanceId), evidenceSnapshots(ec2, context, instanceId)]);
  return { instanceId, volumes, snapshots };
}

async function isSharedWith(ec2: EC2Client, snapshotId: string, account: string): Promise<boolean> {
  const { CreateVolumePermissions } = await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }));
  return (CreateVolumePermissions ?? []).some((permission) => permission.UserId === account);
}

/** Snapshots of this run not yet shared with `account`. */
async function unshared(ec2: EC2Client, snapshots: Iterable<Snapshot>, account: string | undefined): Promise<Snapshot[]> {
  if (account === undefined) return [];
  const all = [...snapshots];
  const shared = await Promise.all(all.map((snapshot) => isSharedWith(ec2, snapshot.SnapshotId as string, account)));
  return all.filter((_, index) => !shared[index]);
}

function snapshotTags(context: ActionContext, instanceId: string, volume: AttachedVolume, copyTags: boolean): Tag[] {
  const own: Tag[] = [
    { Key: EvidenceTag.FindingId, Value: truncate(context.finding.id, MAX_TAG_VALUE) },
    { Key: EvidenceTag.InstanceId, Value: instanceId },
    { Key: EvidenceTag.VolumeId, Value: volume.volumeId },
    { Key: EvidenceTag.Device, Value: volume.device },
    { Key: EvidenceTag.RunId, Value: truncate(context.runId, MAX_TAG_VALUE) },
    { Key: EvidenceTag.Evidence, Value: 'true' },
  ];
  // `aws:` keys are reserved (CreateSnapshot rejects them); Riposte's own keys win over copied ones.
  const copied = copyTags ? volume.tags.filter((tag) => tag.Key !== undefined && !tag.Key.startsWith('aws:') && !tag.Key.startsWith('riposte:')).slice(0, MAX_TAGS - own.length) : [];
  return [...copied.map((tag) => ({ Key: tag.Key, Value: tag.Value ?? '' })), ...own];
}

const description = (context: ActionContext, instanceId: string, volume: AttachedVolume): string =>
  truncate(`Riposte evidence: finding ${context.finding.id}, run ${context.runId}; ${volume.volumeId} (${volume.device}) of ${instanceId}`, MAX_DESCRIPTION);

const listed = (volumes: readonly AttachedVolume[]): string => volumes.map((volume) => `${volume.volumeId} (${volume.device})`).join(', ');

const snapshotList = (state: EvidenceState): string => state.volumes.map((volume) => `${volume.volumeId} -> ${state.snapshots.get(volume.volumeId)?.SnapshotId ?? 'none'}`).join(', ');

/** What rollback takes back: the shares the run made (never the snapshots: evidence stays). */
export type SnapshotSharesUndo = { readonly instanceId: string; readonly account: string; readonly snapshotIds: readonly string[] };

/**
 * Snapshots every EBS volume attached to the instance, tagged as evidence
 * (finding, instance, volume, device, run; the volume's own tags when
 * `copyTags`), and optionally shares the snapshots with a forensics account.
 *
 * One CreateSnapshot per volume, all started at once: each snapshot carries
 * its own tags from the moment it exists (CreateSnapshots tags every snapshot
 * alike, and the emulator ignores its CopyTagsFromSource), and a run that
 * failed half way snapshots only the volumes still missing. The price:
 * snapshots of different volumes are not crash-consistent with each other.
 *
 * Idempotent per run: volumes that already have a pending or completed
 * snapshot tagged with this run id are not snapshotted again. It never
 * deletes anything. Rollback takes back only the shares this run made (the
 * forensics account loses access); the snapshots stay, as evidence does.
 *
 * A share that fails (an encrypted snapshot under the AWS-managed key cannot
 * be shared; a pending one may not be yet) does not fail the step, whose
 * snapshots exist: the summary names the failure, `verify()` reports the
 * snapshot unshared, and a second run shares it.
 *
 * ```yaml
 * - ec2.snapshot-volumes: { copyTags: true, shareWithAccount: "444455556666" }
 * ```
 */
export const snapshotVolumes = defineAction({
  name: ACTION,
  description: 'Snapshot every attached EBS volume as tagged evidence, optionally shared with a forensics account',
  params,
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeVolumes',
      'ec2:DescribeSnapshots',
      'ec2:CreateSnapshot',
      // Tagging on create (CreateSnapshot TagSpecifications) is authorized as ec2:CreateTags.
      'ec2:CreateTags',
      'ec2:DescribeSnapshotAttribute',
      'ec2:ModifySnapshotAttribute',
    ],
    hosting: [],
  },
  changesResources: false,
  behaviour: {
    async plan(context, wanted: Params) {
      const ec2 = context.clients.create(EC2Client, context.target);
      const state = await readState(context, ec2);
      const missing = state.volumes.filter((volume) => !state.snapshots.has(volume.volumeId));
      const toShare = await unshared(ec2, state.snapshots.values(), wanted.shareWithAccount);
      const changes: PlannedChange[] = [
        ...missing.map((volume) => ({ field: `snapshots.${volume.volumeId}`, from: null, to: `new snapshot of ${volume.device}` })),
        ...toShare.map((snapshot) => ({ field: `shares.${snapshot.SnapshotId}`, from: null, to: wanted.shareWithAccount })),
      ];
      const share = wanted.shareWithAccount === undefined ? '' : `, shared with ${wanted.shareWithAccount}`;
      return {
        action: ACTION,
        resource: instanceArnOf(context, state.instanceId),
        compliant: changes.length === 0,
        summary:
          state.volumes.length === 0
            ? `${state.instanceId}: no EBS volume attached; nothing to snapshot`
            : missing.length === 0
              ? `${state.instanceId}: every volume already has an evidence snapshot for run ${context.runId} (${snapshotList(state)})${toShare.length === 0 ? '' : `; would share ${toShare.length} with ${wanted.shareWithAccount}`}`
              : `${state.instanceId}: would snapshot ${listed(missing)}${share}`,
        changes,
      };
    },

    async run(context, wanted: Params) {
      const ec2 = context.clients.create(EC2Client, context.target);
      // Read again, not the plan's reading: the state may have moved since.
      const state = await readState(context, ec2);
      const missing = state.volumes.filter((volume) => !state.snapshots.has(volume.volumeId));

      const created = await Promise.allSettled(
        missing.map(async (volume) => {
          const snapshot = await ec2.send(
            new CreateSnapshotCommand({
              VolumeId: volume.volumeId,
              Description: description(context, state.instanceId, volume),
              TagSpecifications: [{ ResourceType: 'snapshot', Tags: snapshotTags(context, state.instanceId, volume, wanted.copyTags) }],
            }),
          );
          return { volume, snapshot };
        }),
      );
      // Every snapshot that was started is tagged with this run: a second run finds them and starts only the rest.
      const failed = created.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const fresh = created.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const snapshots = new Map(state.snapshots);
      for (const { volume, snapshot } of fresh) snapshots.set(volume.volumeId, snapshot);

      const changes: PlannedChange[] = fresh.map(({ volume, snapshot }) => ({ field: `snapshots.${volume.volumeId}`, from: null, to: snapshot.SnapshotId }));
      const shareFailures: string[] = [];
      const sharedIds: string[] = [];
      if (wanted.shareWithAccount !== undefined) {
        const account = wanted.shareWithAccount;
        const known = await unshared(ec2, state.snapshots.values(), account);
        for (const snapshot of [...known, ...fresh.map(({ snapshot: made }) => made)]) {
          const snapshotId = snapshot.SnapshotId as string;
          try {
            // The OperationType + UserIds form: the emulator ignores CreateVolumePermission={Add:[…]}.
            await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [account] }));
            changes.push({ field: `shares.${snapshotId}`, from: null, to: account });
            sharedIds.push(snapshotId);
          } catch (error) {
            shareFailures.push(`sharing ${snapshotId} with ${account} failed: ${(error as Error).name}: ${(error as Error).message}`);
          }
        }
      }

      const after: EvidenceState = { ...state, snapshots };
      const failures = shareFailures.length === 0 ? '' : `; ${shareFailures.join('; ')}`;
      if (changes.length === 0) {
        return {
          action: ACTION,
          resource: instanceArnOf(context, state.instanceId),
          changed: false,
          summary:
            state.volumes.length === 0
              ? `${state.instanceId}: no EBS volume attached; nothing snapshotted`
              : `evidence snapshots for run ${context.runId} already exist (${snapshotList(after)}); nothing created${failures}`,
          changes,
        };
      }
      const shared = wanted.shareWithAccount === undefined || shareFailures.length > 0 ? '' : `; shared with ${wanted.shareWithAccount}`;
      return {
        action: ACTION,
        resource: instanceArnOf(context, state.instanceId),
        changed: true,
        summary: `${state.instanceId}: ${fresh.length === 0 ? 'no new snapshot' : `snapshotted ${fresh.map(({ volume, snapshot }) => `${volume.volumeId} (${volume.device}) -> ${snapshot.SnapshotId}`).join(', ')}`}${shared}${failures}`,
        changes,
        ...(sharedIds.length === 0 || wanted.shareWithAccount === undefined
          ? {}
          : { undo: { instanceId: state.instanceId, account: wanted.shareWithAccount, snapshotIds: sharedIds } satisfies SnapshotSharesUndo }),
      };
    },

    async rollback(context, undo: SnapshotSharesUndo) {
      const ec2 = context.clients.create(EC2Client, context.target);
      const changes: PlannedChange[] = [];
      for (const snapshotId of undo.snapshotIds) {
        if (!(await isSharedWith(ec2, snapshotId, undo.account))) continue;
        await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'remove', UserIds: [undo.account] }));
        changes.push({ field: `shares.${snapshotId}`, from: undo.account, to: null });
      }
      return {
        action: ACTION,
        resource: instanceArnOf(context, undo.instanceId),
        changed: changes.length > 0,
        summary:
          changes.length === 0
            ? `${undo.instanceId}: the snapshots are no longer shared with ${undo.account}; nothing to take back (the snapshots stay, as evidence)`
            : `${undo.instanceId}: stopped sharing ${changes.map((change) => change.field.slice('shares.'.length)).join(', ')} with ${undo.account} (the snapshots stay, as evidence)`,
        changes,
      };
    },

    async verify(context, wanted: Params) {
      const ec2 = context.clients.create(EC2Client, context.target);
      const state = await readState(context, ec2);
      const missing = state.volumes.filter((volume) => !state.snapshots.has(volume.volumeId));
      const toShare = await unshared(ec2, state.snapshots.values(), wanted.shareWithAccount);
      const failing = [
        ...missing.map((volume) => `${volume.volumeId} (${volume.device}) has no evidence snapshot for run ${context.runId}`),
        ...toShare.map((snapshot) => `${snapshot.SnapshotId} is not shared with ${wanted.shareWithAccount}`),
      ];
      return {
        compliant: failing.length === 0,
        summary:
          failing.length > 0
            ? failing.join('; ')
            : state.volumes.length === 0
              ? `${state.instanceId}: no EBS volume attached`
              : `every attached volume has an evidence snapshot for run ${context.runId} (${snapshotList(state)})${wanted.shareWithAccount === undefined ? '' : `, shared with ${wanted.shareWithAccount}`}`,
      };
    },
  },
});
