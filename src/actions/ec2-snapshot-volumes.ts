import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type Snapshot,
  type Tag,
} from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { instanceArnOf } from './arns.js';
import { isEc2Error } from './errors.js';
import { describeInstance } from './ec2-instance.js';
import { defineAction } from './registry.js';
import type { ActionContext, ActionOutcome, PlannedChange } from './runtime.js';

const ACTION = 'ec2.snapshot-volumes';

/**
 * The alias of the forensics key the member-account template creates
 * (`riposte roles`, parameter `ForensicsAccountId`): the default of
 * `forensicsKmsKey`.
 */
export const FORENSICS_KEY_ALIAS = 'alias/riposte-forensics';

// CopySnapshot KmsKeyId: "Key ID ... Key alias ... Key ARN ... Alias ARN" (an alias is `alias/` and 1-250 of [a-zA-Z0-9/_-]).
const KEY_REFERENCE =
  /^(alias\/[A-Za-z0-9/_-]{1,250}|(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|(mrk-)?[0-9a-f]{32}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+)$/;
// AWS managed keys (alias/aws/ebs among them) cannot be shared: a copy under one would be as closed as the original.
const AWS_MANAGED_ALIAS = /(^|:)alias\/aws\//;

const params = z.strictObject({
  copyTags: z._default(z.boolean(), true),
  /** A 12-digit account id, or `forensics`: the deployment's forensics account (`RIPOSTE_FORENSICS_ACCOUNT`). */
  shareWithAccount: z.optional(z.string().check(z.regex(/^(\d{12}|forensics)$/, "must be a 12-digit AWS account id, or forensics (the deployment's forensics account)"))),
  /**
   * The customer managed key encrypted snapshots are copied under before
   * they are shared (alias, alias ARN, key id or key ARN). Its key policy
   * must let the member role use it and the forensics account decrypt it:
   * the member-account template's key does both.
   */
  forensicsKmsKey: z._default(
    z.string().check(
      z.regex(KEY_REFERENCE, 'must be a KMS key alias (alias/…), key id, or key or alias ARN'),
      z.refine((value) => !AWS_MANAGED_ALIAS.test(value), 'must be a customer managed key: snapshots under an AWS managed key (alias/aws/…) cannot be shared'),
    ),
    FORENSICS_KEY_ALIAS,
  ),
});
type Params = z.output<typeof params>;

/**
 * The account the snapshots go to: the one the step names, or for
 * `forensics` the deployment's forensics account (none configured: the
 * snapshots stay in the member account, and the step says why).
 */
function shareTargetOf(context: ActionContext, wanted: Params): { account: string | undefined; note: string } {
  if (wanted.shareWithAccount !== 'forensics') return { account: wanted.shareWithAccount, note: '' };
  const account = context.hosting.forensicsAccount;
  return account === undefined ? { account: undefined, note: '; not shared: no forensics account is configured (RIPOSTE_FORENSICS_ACCOUNT)' } : { account, note: '' };
}

/** Tag keys Riposte puts on evidence snapshots and their forensics copies; DescribeSnapshots finds a run's snapshots by them. */
export const EvidenceTag = {
  FindingId: 'riposte:finding-id',
  InstanceId: 'riposte:instance-id',
  VolumeId: 'riposte:volume-id',
  Device: 'riposte:device',
  RunId: 'riposte:run-id',
  /** On an original snapshot of a volume: `true`. */
  Evidence: 'riposte:evidence',
  /** On a forensics copy: the original it copies (what finds a run's copies). */
  CopyOf: 'riposte:copy-of',
  /** On an original: its forensics copy, for a responder at the console. */
  ForensicsCopy: 'riposte:forensics-copy',
} as const;

// EC2 limits: 50 tags a resource, 256 characters a tag value, 255 a snapshot description.
const MAX_TAGS = 50;
const MAX_TAG_VALUE = 256;
const MAX_DESCRIPTION = 255;
/** Snapshot states that hold (or will hold) the volume's data; `error` ones do not count as evidence. */
const USABLE_STATES = new Set(['pending', 'completed']);
/** How a copy ranks when a source has several (a retry's): the usable one first. */
const COPY_RANK: Record<string, number> = { completed: 0, pending: 1, error: 2 };
/** Bounds of the wait before a pending snapshot is looked at again: SQS delays go up to 15 minutes. */
const RECHECK_MIN_SECONDS = 30;
const RECHECK_MAX_SECONDS = 900;

const truncate = (value: string, max: number): string => {
  const characters = Array.from(value);
  return characters.length <= max ? value : characters.slice(0, max).join('');
};

const tagOf = (snapshot: Snapshot, key: string): string | undefined => snapshot.Tags?.find((tag) => tag.Key === key)?.Value;

interface AttachedVolume {
  readonly volumeId: string;
  readonly device: string;
  readonly encrypted: boolean;
  readonly tags: readonly Tag[];
}

interface EvidenceState {
  readonly instanceId: string;
  readonly volumes: readonly AttachedVolume[];
  /** This run's usable evidence snapshot for each volume that has one. */
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  /** This run's forensics copy of each original (by the original's id) that has one. */
  readonly copies: ReadonlyMap<string, Snapshot>;
}

async function attachedVolumes(ec2: EC2Client, instanceId: string): Promise<AttachedVolume[]> {
  const volumes: AttachedVolume[] = [];
  for await (const page of paginateDescribeVolumes({ client: ec2 }, { Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] })) {
    for (const volume of page.Volumes ?? []) {
      if (volume.VolumeId === undefined) continue;
      const attachment = volume.Attachments?.find((candidate) => candidate.InstanceId === instanceId);
      volumes.push({ volumeId: volume.VolumeId, device: attachment?.Device ?? 'unknown', encrypted: volume.Encrypted === true, tags: volume.Tags ?? [] });
    }
  }
  return volumes.sort((a, b) => a.device.localeCompare(b.device));
}

/** This run's originals (by volume) and forensics copies (by original), in one listing. */
async function evidenceSnapshots(ec2: EC2Client, context: ActionContext, instanceId: string): Promise<{ snapshots: Map<string, Snapshot>; copies: Map<string, Snapshot> }> {
  const snapshots = new Map<string, Snapshot>();
  const copies = new Map<string, Snapshot>();
  const filters = [
    // This run's, or an earlier attempt's at the same work (a retry): a snapshot the killed attempt took is not taken again.
    { Name: `tag:${EvidenceTag.RunId}`, Values: [context.runId, ...(context.earlierRunIds ?? [])] },
    { Name: `tag:${EvidenceTag.InstanceId}`, Values: [instanceId] },
  ];
  for await (const page of paginateDescribeSnapshots({ client: ec2 }, { OwnerIds: ['self'], Filters: filters })) {
    for (const snapshot of page.Snapshots ?? []) {
      const copyOf = tagOf(snapshot, EvidenceTag.CopyOf);
      if (copyOf !== undefined) {
        const known = copies.get(copyOf);
        if (known === undefined || (COPY_RANK[snapshot.State ?? ''] ?? 3) < (COPY_RANK[known.State ?? ''] ?? 3)) copies.set(copyOf, snapshot);
        continue;
      }
      if (tagOf(snapshot, EvidenceTag.Evidence) !== 'true' || !USABLE_STATES.has(snapshot.State ?? '')) continue;
      // A copy's VolumeId is arbitrary (vol-ffffffff): an original's is its volume's, and its tag says the same.
      const volumeId = tagOf(snapshot, EvidenceTag.VolumeId) ?? snapshot.VolumeId;
      if (volumeId === undefined) continue;
      const known = snapshots.get(volumeId);
      // Prefer a completed snapshot over a pending one of the same volume.
      if (known === undefined || (known.State !== 'completed' && snapshot.State === 'completed')) snapshots.set(volumeId, snapshot);
    }
  }
  return { snapshots, copies };
}

async function readState(context: ActionContext, ec2: EC2Client): Promise<EvidenceState> {
  const instance = await describeInstance(ACTION, context);
  const instanceId = instance.InstanceId as string;
  const [volumes, { snapshots, copies }] = await Promise.all([attachedVolumes(ec2, instanceId), evidenceSnapshots(ec2, context, instanceId)]);
  return { instanceId, volumes, snapshots, copies };
}

async function isSharedWith(ec2: EC2Client, snapshotId: string, account: string): Promise<boolean> {
  const { CreateVolumePermissions } = await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }));
  return (CreateVolumePermissions ?? []).some((permission) => permission.UserId === account);
}

/** Of `snapshots`, those shared with `account` (one DescribeSnapshotAttribute each, all at once). */
async function sharedAmong(ec2: EC2Client, snapshots: readonly Snapshot[], account: string): Promise<Set<string>> {
  const ids = snapshots.map((snapshot) => snapshot.SnapshotId as string);
  const shared = await Promise.all(ids.map((id) => isSharedWith(ec2, id, account)));
  return new Set(ids.filter((_, index) => shared[index]));
}

/**
 * What the forensics account is to receive, read from the state: an
 * unencrypted original is shared itself; an encrypted one through its copy
 * under the forensics key (never the original: its key is the owner's).
 */
interface Delivery {
  /** Unencrypted originals, shared as they are. */
  readonly plain: readonly Snapshot[];
  /** Encrypted originals with their copy (usable or not). */
  readonly copied: ReadonlyArray<{ readonly source: Snapshot; readonly copy: Snapshot }>;
  /** Encrypted originals without a copy: `completed` ones can be copied now, `pending` ones later. */
  readonly uncopied: readonly Snapshot[];
}

function deliveryOf(state: Pick<EvidenceState, 'snapshots' | 'copies'>): Delivery {
  const originals = [...state.snapshots.values()];
  return {
    plain: originals.filter((snapshot) => snapshot.Encrypted !== true),
    copied: originals.flatMap((source) => {
      const copy = state.copies.get(source.SnapshotId as string);
      return source.Encrypted === true && copy !== undefined ? [{ source, copy }] : [];
    }),
    uncopied: originals.filter((snapshot) => snapshot.Encrypted === true && !state.copies.has(snapshot.SnapshotId as string)),
  };
}

/** Snapshots the forensics account is meant to open, and whether each is shared with it (`fresh` ones, just made, are not: not asked). */
async function sharesOf(ec2: EC2Client, delivery: Delivery, account: string, fresh: ReadonlySet<string> = new Set()): Promise<{ toShare: Snapshot[]; shared: Set<string> }> {
  const candidates = [...delivery.plain, ...delivery.copied.filter(({ copy }) => copy.State !== 'error').map(({ copy }) => copy)];
  const shared = await sharedAmong(
    ec2,
    candidates.filter((snapshot) => !fresh.has(snapshot.SnapshotId as string)),
    account,
  );
  return { toShare: candidates.filter((snapshot) => !shared.has(snapshot.SnapshotId as string)), shared };
}

/** When to look at pending snapshots again: the soonest expected completion, from their progress so far. */
function recheckSeconds(pending: readonly Snapshot[], now = Date.now()): number {
  const estimates = pending.map((snapshot) => {
    const progress = Number.parseInt(snapshot.Progress ?? '', 10);
    const elapsed = snapshot.StartTime === undefined ? Number.NaN : (now - snapshot.StartTime.getTime()) / 1000;
    return progress > 0 && progress < 100 && elapsed > 0 ? (elapsed * (100 - progress)) / progress : 60;
  });
  return Math.round(Math.min(RECHECK_MAX_SECONDS, Math.max(RECHECK_MIN_SECONDS, Math.min(...estimates))));
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

/** A copy's tags: the original's (its evidence mark aside, which would count the copy as an original), and the original it copies. */
function copyTags(source: Snapshot): Tag[] {
  const kept = (source.Tags ?? []).filter((tag) => tag.Key !== EvidenceTag.Evidence && tag.Key !== EvidenceTag.ForensicsCopy && tag.Key !== undefined && !tag.Key.startsWith('aws:'));
  const own = kept.filter((tag) => tag.Key?.startsWith('riposte:') === true);
  const theirs = kept.filter((tag) => tag.Key?.startsWith('riposte:') !== true).slice(0, MAX_TAGS - own.length - 1);
  return [...theirs, ...own, { Key: EvidenceTag.CopyOf, Value: source.SnapshotId }];
}

const description = (context: ActionContext, instanceId: string, volume: AttachedVolume): string =>
  truncate(`Riposte evidence: finding ${context.finding.id}, run ${context.runId}; ${volume.volumeId} (${volume.device}) of ${instanceId}`, MAX_DESCRIPTION);

const copyDescription = (context: ActionContext, instanceId: string, source: Snapshot): string =>
  truncate(
    `Riposte forensics copy of ${source.SnapshotId} (${tagOf(source, EvidenceTag.VolumeId) ?? source.VolumeId}, ${tagOf(source, EvidenceTag.Device) ?? 'unknown device'}) of ${instanceId}: finding ${context.finding.id}, run ${context.runId}`,
    MAX_DESCRIPTION,
  );

const listed = (volumes: readonly AttachedVolume[]): string => volumes.map((volume) => `${volume.volumeId} (${volume.device})`).join(', ');

const snapshotList = (state: Pick<EvidenceState, 'volumes' | 'snapshots' | 'copies'>): string =>
  state.volumes
    .map((volume) => {
      const snapshot = state.snapshots.get(volume.volumeId);
      const copy = snapshot === undefined ? undefined : state.copies.get(snapshot.SnapshotId as string);
      return `${volume.volumeId} -> ${snapshot?.SnapshotId ?? 'none'}${copy === undefined ? '' : ` (copy ${copy.SnapshotId})`}`;
    })
    .join(', ');

const failureOf = (what: string, error: unknown): string => `${what} failed: ${(error as Error).name}: ${(error as Error).message}`;

/**
 * What rollback takes back: the shares the run made, and the forensics
 * copies it made (deleted). The original snapshots stay, as evidence does.
 */
export type SnapshotSharesUndo = {
  readonly instanceId: string;
  readonly account: string;
  /** Originals and copies shared with `account`. */
  readonly snapshotIds: readonly string[];
  /** Riposte's forensics copies (absent in records from before copies existed). */
  readonly copyIds?: readonly string[];
};

/**
 * Snapshots every EBS volume attached to the instance, tagged as evidence
 * (finding, instance, volume, device, run; the volume's own tags when
 * `copyTags`), and optionally gives the snapshots to a forensics account.
 *
 * One CreateSnapshot per volume, all started at once: each snapshot carries
 * its own tags from the moment it exists (CreateSnapshots tags every snapshot
 * alike, and the emulator ignores its CopyTagsFromSource), and a run that
 * failed half way snapshots only the volumes still missing. The price:
 * snapshots of different volumes are not crash-consistent with each other.
 *
 * With `shareWithAccount` (an account id, or `forensics` for the
 * deployment's forensics account, `RIPOSTE_FORENSICS_ACCOUNT`; with none
 * configured the snapshots stay in the member account and the summaries say
 * so):
 * - an unencrypted snapshot is shared as it is (createVolumePermission);
 * - an encrypted one (under the AWS managed key, which cannot be shared, or
 *   under the owner's customer managed key, whose policy Riposte never
 *   edits) is copied under the forensics key (`forensicsKmsKey`, by default
 *   the member-account template's `alias/riposte-forensics`), and the copy
 *   is shared. A snapshot can be copied only once it is completed: while an
 *   encrypted one is pending, the step reports itself in progress and the
 *   run comes back to it (after an estimate from its progress, 30 s to
 *   15 min), then copies and shares. The copy carries the original's tags
 *   and `riposte:copy-of` (the original's id); the original gets
 *   `riposte:forensics-copy` (the copy's id).
 *
 * Idempotent per run: the run's originals and copies are found by their
 * tags; nothing is snapshotted, copied or shared twice. It never deletes an
 * original. Rollback takes back the run's shares and deletes only its
 * copies (recognised by `riposte:copy-of`); the originals stay, as evidence.
 *
 * A share or copy that fails (refused, a key the copy cannot use) does not
 * fail the step, whose snapshots exist: the summary names the failure,
 * `verify()` reports what the forensics account lacks, and a second run
 * tries again. A copy under a key EBS cannot use ends in state `error`
 * (EBS reads the key asynchronously): `verify()` reports it.
 *
 * ```yaml
 * - ec2.snapshot-volumes: { copyTags: true, shareWithAccount: "444455556666", forensicsKmsKey: alias/riposte-forensics }
 * ```
 */
export const snapshotVolumes = defineAction({
  name: ACTION,
  description: 'Snapshot every attached EBS volume as tagged evidence, optionally shared with a forensics account (encrypted ones as copies under a forensics key)',
  params,
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeVolumes',
      'ec2:DescribeSnapshots',
      'ec2:CreateSnapshot',
      // Tagging on create (CreateSnapshot, CopySnapshot TagSpecifications) is authorized as ec2:CreateTags.
      'ec2:CreateTags',
      'ec2:DescribeSnapshotAttribute',
      'ec2:ModifySnapshotAttribute',
      'ec2:CopySnapshot',
      // Rollback deletes the run's forensics copies (never an original).
      'ec2:DeleteSnapshot',
      // EBS uses the source's and the forensics key on the caller's behalf for a copy (EBS User Guide,
      // "Permissions for users"); the member template narrows these to EC2 and to grants for AWS resources.
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:ReEncryptFrom',
      'kms:ReEncryptTo',
    ],
    hosting: [],
  },
  changesResources: false,
  behaviour: {
    async plan(context, wanted: Params) {
      const ec2 = context.clients.create(EC2Client, context.target);
      const state = await readState(context, ec2);
      const missing = state.volumes.filter((volume) => !state.snapshots.has(volume.volumeId));
      const { account, note: unshared } = shareTargetOf(context, wanted);
      const changes: PlannedChange[] = missing.map((volume) => ({ field: `snapshots.${volume.volumeId}`, from: null, to: `new snapshot of ${volume.device}` }));
      if (account !== undefined) {
        const delivery = deliveryOf(state);
        const { toShare } = await sharesOf(ec2, delivery, account);
        changes.push(
          ...missing.filter((volume) => volume.encrypted).map((volume) => ({ field: `copies.${volume.volumeId}`, from: null, to: `copy of the new snapshot under ${wanted.forensicsKmsKey}` })),
          ...delivery.uncopied.map((source) => ({ field: `copies.${source.SnapshotId}`, from: null, to: `copy under ${wanted.forensicsKmsKey}` })),
          ...toShare.map((snapshot) => ({ field: `shares.${snapshot.SnapshotId}`, from: null, to: account })),
        );
      }
      const encrypted = missing.filter((volume) => volume.encrypted);
      const share =
        account === undefined
          ? ''
          : `, shared with ${account}${encrypted.length === 0 ? '' : ` (encrypted ${listed(encrypted)} as copies under ${wanted.forensicsKmsKey}, once each snapshot completes)`}`;
      const pendingWork = changes.length - missing.length;
      return {
        action: ACTION,
        resource: instanceArnOf(context, state.instanceId),
        compliant: changes.length === 0,
        summary:
          state.volumes.length === 0
            ? `${state.instanceId}: no EBS volume attached; nothing to snapshot`
            : missing.length === 0
              ? `${state.instanceId}: every volume already has an evidence snapshot for run ${context.runId} (${snapshotList(state)})${pendingWork === 0 ? '' : `; would copy or share ${pendingWork} for ${account}`}`
              : `${state.instanceId}: would snapshot ${listed(missing)}${share}${unshared}`,
        changes,
      };
    },

    async run(context, wanted: Params) {
      const ec2 = context.clients.create(EC2Client, context.target);
      // Read again, not the plan's reading: the state may have moved since.
      const state = await readState(context, ec2);
      const missing = state.volumes.filter((volume) => !state.snapshots.has(volume.volumeId));
      const resource = instanceArnOf(context, state.instanceId);

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
      // CreateSnapshot answers with the snapshot, but not its tags: the run's tags are what they were asked to be.
      for (const { volume, snapshot } of fresh) snapshots.set(volume.volumeId, { ...snapshot, Tags: snapshotTags(context, state.instanceId, volume, wanted.copyTags) });
      const changes: PlannedChange[] = fresh.map(({ volume, snapshot }) => ({ field: `snapshots.${volume.volumeId}`, from: null, to: snapshot.SnapshotId }));

      const { account, note: unshared } = shareTargetOf(context, wanted);
      if (account === undefined) {
        const after: EvidenceState = { ...state, snapshots };
        return {
          action: ACTION,
          resource,
          changed: changes.length > 0,
          summary:
            state.volumes.length === 0
              ? `${state.instanceId}: no EBS volume attached; nothing snapshotted`
              : fresh.length === 0
                ? `evidence snapshots for run ${context.runId} already exist (${snapshotList(after)}); nothing created`
                : `${state.instanceId}: snapshotted ${fresh.map(({ volume, snapshot }) => `${volume.volumeId} (${volume.device}) -> ${snapshot.SnapshotId}`).join(', ')}${unshared}`,
          changes,
        };
      }

      const failures: string[] = [];
      const copies = new Map(state.copies);
      const delivery = deliveryOf({ snapshots, copies: state.copies });
      const [{ toShare, shared }, tagged] = await Promise.all([
        sharesOf(ec2, delivery, account, new Set(fresh.map(({ snapshot }) => snapshot.SnapshotId as string))),
        // An original whose copy exists but whose pointer tag is missing (an attempt killed between the two): tag it now.
        Promise.all(
          delivery.copied
            .filter(({ source, copy }) => tagOf(source, EvidenceTag.ForensicsCopy) !== copy.SnapshotId)
            .map(async ({ source, copy }) => {
              await ec2.send(new CreateTagsCommand({ Resources: [source.SnapshotId as string], Tags: [{ Key: EvidenceTag.ForensicsCopy, Value: copy.SnapshotId }] }));
              return { field: `tags.${source.SnapshotId}.${EvidenceTag.ForensicsCopy}`, from: tagOf(source, EvidenceTag.ForensicsCopy) ?? null, to: copy.SnapshotId } satisfies PlannedChange;
            }),
        ),
      ]);
      changes.push(...tagged);

      const share = async (snapshotId: string): Promise<void> => {
        try {
          // The OperationType + UserIds form: the emulator ignores CreateVolumePermission={Add:[…]}.
          await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [account] }));
          changes.push({ field: `shares.${snapshotId}`, from: null, to: account });
          shared.add(snapshotId);
        } catch (error) {
          failures.push(failureOf(`sharing ${snapshotId} with ${account}`, error));
        }
      };

      // Completed encrypted originals are copied now, each copy tagged as it is made, its original pointed to it, and the copy shared.
      const copyNow = delivery.uncopied.filter((source) => source.State === 'completed');
      const waiting = delivery.uncopied.filter((source) => source.State !== 'completed');
      await Promise.all([
        ...toShare.map((snapshot) => share(snapshot.SnapshotId as string)),
        ...copyNow.map(async (source) => {
          const sourceId = source.SnapshotId as string;
          let copyId: string;
          try {
            const made = await ec2.send(
              new CopySnapshotCommand({
                SourceSnapshotId: sourceId,
                SourceRegion: context.target.region,
                Encrypted: true,
                KmsKeyId: wanted.forensicsKmsKey,
                Description: copyDescription(context, state.instanceId, source),
                TagSpecifications: [{ ResourceType: 'snapshot', Tags: copyTags(source) }],
              }),
            );
            copyId = made.SnapshotId as string;
          } catch (error) {
            failures.push(failureOf(`copying ${sourceId} under ${wanted.forensicsKmsKey}`, error));
            return;
          }
          copies.set(sourceId, { SnapshotId: copyId, State: 'pending', Encrypted: true, Tags: copyTags(source) });
          changes.push({ field: `copies.${sourceId}`, from: null, to: { snapshotId: copyId, kmsKeyId: wanted.forensicsKmsKey, sourceKmsKeyId: source.KmsKeyId ?? null } });
          await Promise.all([
            ec2.send(new CreateTagsCommand({ Resources: [sourceId], Tags: [{ Key: EvidenceTag.ForensicsCopy, Value: copyId }] })).catch((error: unknown) => {
              failures.push(failureOf(`tagging ${sourceId} with its copy ${copyId}`, error));
            }),
            share(copyId),
          ]);
        }),
      ]);

      const after: EvidenceState = { ...state, snapshots, copies };
      const copyIds = [...copies.values()].map((copy) => copy.SnapshotId as string).sort();
      const undo: SnapshotSharesUndo = { instanceId: state.instanceId, account, snapshotIds: [...shared].sort(), ...(copyIds.length === 0 ? {} : { copyIds }) };
      const hasUndo = undo.snapshotIds.length > 0 || copyIds.length > 0;
      // A pass that found work left and could not finish it still carries the undo of what the run made so far.
      const changed = changes.length > 0 || (failures.length > 0 && hasUndo);
      const problems = failures.length === 0 ? '' : `; ${failures.join('; ')}`;
      const waits = waiting.length === 0 ? '' : `; ${waiting.map((source) => source.SnapshotId).join(', ')} still pending: copied under ${wanted.forensicsKmsKey} and shared once completed`;
      const verbs: Record<string, string> = { snapshots: 'snapshotted', copies: `copied under ${wanted.forensicsKmsKey}`, shares: 'shared', tags: 'tagged' };
      const did = changes.map((change) => verbs[change.field.split('.')[0] as string]).filter((verb, index, all) => all.indexOf(verb) === index);
      const outcome: ActionOutcome<SnapshotSharesUndo> = {
        action: ACTION,
        resource,
        changed,
        summary:
          state.volumes.length === 0
            ? `${state.instanceId}: no EBS volume attached; nothing snapshotted`
            : changes.length === 0
              ? `evidence for run ${context.runId} already in place for ${account} (${snapshotList(after)}); nothing created${waits}${problems}`
              : `${state.instanceId}: ${did.join(', ')} for run ${context.runId} (${snapshotList(after)}); shared with ${account}: ${[...shared].sort().join(', ') || 'none'}${waits}${problems}`,
        changes,
        ...(changed && hasUndo ? { undo } : {}),
      };
      if (waiting.length === 0) return outcome;
      // The pipeline saves the run and runs this step again: the completed originals are then copied, nothing is made twice.
      return {
        ...outcome,
        inProgress: { detail: `${waiting.length} encrypted snapshot(s) of ${state.instanceId} still pending before their forensics copy`, checkAfterSeconds: recheckSeconds(waiting) },
      };
    },

    async rollback(context, undo: SnapshotSharesUndo) {
      const ec2 = context.clients.create(EC2Client, context.target);
      const changes: PlannedChange[] = [];
      const gone = (error: unknown): boolean => isEc2Error(error, ['InvalidSnapshot.NotFound']);
      for (const snapshotId of undo.snapshotIds) {
        try {
          if (!(await isSharedWith(ec2, snapshotId, undo.account))) continue;
          await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'remove', UserIds: [undo.account] }));
        } catch (error) {
          if (gone(error)) continue;
          throw error;
        }
        changes.push({ field: `shares.${snapshotId}`, from: undo.account, to: null });
      }
      const skipped: string[] = [];
      for (const copyId of undo.copyIds ?? []) {
        let copy: Snapshot | undefined;
        try {
          copy = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [copyId], OwnerIds: ['self'] }))).Snapshots?.[0];
        } catch (error) {
          if (gone(error)) continue;
          throw error;
        }
        const sourceId = copy === undefined ? undefined : tagOf(copy, EvidenceTag.CopyOf);
        // Only what carries Riposte's copy tag is deleted: an id that names an original (or anything else) stays.
        if (copy === undefined || sourceId === undefined || tagOf(copy, EvidenceTag.Evidence) !== undefined) {
          if (copy !== undefined) skipped.push(copyId);
          continue;
        }
        await ec2.send(new DeleteSnapshotCommand({ SnapshotId: copyId }));
        changes.push({ field: `copies.${sourceId}`, from: copyId, to: null });
        // The original keeps its pointer, saying what became of the copy (no ec2:DeleteTags needed).
        await ec2
          .send(new CreateTagsCommand({ Resources: [sourceId], Tags: [{ Key: EvidenceTag.ForensicsCopy, Value: truncate(`${copyId} (deleted by rollback ${context.runId})`, MAX_TAG_VALUE) }] }))
          .catch((error: unknown) => {
            if (!gone(error)) throw error;
          });
      }
      const unshared = changes.filter((change) => change.field.startsWith('shares.')).map((change) => change.field.slice('shares.'.length));
      const deleted = changes.filter((change) => change.field.startsWith('copies.')).map((change) => change.from as string);
      const notes = skipped.length === 0 ? '' : `; left ${skipped.join(', ')} alone: not a Riposte forensics copy`;
      return {
        action: ACTION,
        resource: instanceArnOf(context, undo.instanceId),
        changed: changes.length > 0,
        summary:
          changes.length === 0
            ? `${undo.instanceId}: the snapshots are no longer shared with ${undo.account} and no copy is left; nothing to take back (the snapshots stay, as evidence)${notes}`
            : `${undo.instanceId}: ${[
                ...(unshared.length === 0 ? [] : [`stopped sharing ${unshared.join(', ')} with ${undo.account}`]),
                ...(deleted.length === 0 ? [] : [`deleted the forensics copies ${deleted.join(', ')}`]),
              ].join('; ')} (the snapshots stay, as evidence)${notes}`,
        changes,
      };
    },

    async verify(context, wanted: Params) {
      const ec2 = context.clients.create(EC2Client, context.target);
      const state = await readState(context, ec2);
      const missing = state.volumes.filter((volume) => !state.snapshots.has(volume.volumeId));
      const { account, note: unshared } = shareTargetOf(context, wanted);
      const failing = missing.map((volume) => `${volume.volumeId} (${volume.device}) has no evidence snapshot for run ${context.runId}`);
      if (account !== undefined) {
        const delivery = deliveryOf(state);
        const { toShare } = await sharesOf(ec2, delivery, account);
        failing.push(
          ...delivery.uncopied.map((source) =>
            source.State === 'completed'
              ? `${source.SnapshotId} is encrypted and has no forensics copy`
              : `${source.SnapshotId} is encrypted and still ${source.State ?? 'pending'}: its forensics copy is made once it completes`,
          ),
          ...delivery.copied
            .filter(({ copy }) => copy.State === 'error')
            .map(({ source, copy }) => `the forensics copy ${copy.SnapshotId} of ${source.SnapshotId} failed (state error): EBS could not use the key ${wanted.forensicsKmsKey} or the original's`),
          ...toShare.map((snapshot) => `${snapshot.SnapshotId} is not shared with ${account}`),
        );
      }
      return {
        compliant: failing.length === 0,
        summary:
          failing.length > 0
            ? failing.join('; ')
            : state.volumes.length === 0
              ? `${state.instanceId}: no EBS volume attached`
              : `every attached volume has an evidence snapshot for run ${context.runId} (${snapshotList(state)})${account === undefined ? unshared : `, shared with ${account}`}`,
      };
    },
  },
});
