import {
  DescribeSecurityGroupsCommand,
  EC2Client,
  GetConsoleOutputCommand,
  GetConsoleScreenshotCommand,
  paginateDescribeIamInstanceProfileAssociations,
  paginateDescribeNetworkInterfaces,
  paginateDescribeVolumes,
  type IamInstanceProfileAssociation,
  type Instance,
  type NetworkInterface,
  type SecurityGroup,
  type Volume,
} from '@aws-sdk/client-ec2';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import * as z from '../zod.js';

import { errorName, type ErrorContext } from '../errors.js';
import { verifyManifestSignature, type ManifestSignature, type ManifestSigner } from '../evidence/index.js';
import { instanceArnOf } from './arns.js';
import { describeInstance, instanceIdOf } from './ec2-instance.js';
import {
  allWritesSettled,
  bothSettled,
  DIGEST_METADATA,
  evidenceBucketOf,
  evidenceS3Of,
  jsonBytes,
  readObject,
  sha256,
  writeDigestFile,
  writeJsonEvidence,
  writeOnce,
  type WriteOnceResult,
  type WriteOptions,
} from './evidence-store.js';
import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

const ACTION = 'ec2.capture-metadata';

const params = z.strictObject({
  consoleOutput: z._default(z.boolean(), true),
  screenshot: z._default(z.boolean(), true),
  legalHold: z._default(z.boolean(), false).check(
    z.meta({
      description:
        "Place an S3 Object Lock legal hold on every object the step writes (with the write itself), besides the bucket's default retention: the objects cannot be deleted until the hold is removed, whatever their retention",
    }),
  ),
});
type Params = z.output<typeof params>;

/** The evidence objects, in the order they are written and listed in the manifest. */
const EVIDENCE_NAMES = ['instance', 'volumes', 'network-interfaces', 'security-groups', 'iam-instance-profile-associations', 'tags', 'console-output', 'console-screenshot'] as const;
type EvidenceName = (typeof EVIDENCE_NAMES)[number];

const MANIFEST = 'manifest';
/** The manifest's signature file, beside it: `manifest.json.sig`. */
const SIGNATURE_SUFFIX = '.sig';

/** One evidence object as the manifest and the outcome record it. */
export interface EvidenceObject {
  readonly name: string;
  readonly key: string;
  /** Hex SHA-256 of the exact bytes stored. */
  readonly sha256: string;
  readonly bytes: number;
  /** The object's version, where the bucket is versioned (every bucket with Object Lock is): the exact object the digest is of. */
  readonly versionId?: string;
  /** Present when an earlier, interrupted attempt of the same run wrote the object: it was kept, not replaced. */
  readonly keptFromEarlierAttempt?: true;
}

export interface EvidenceManifest {
  readonly schema: 'riposte.evidence-manifest/1';
  readonly bucket: string;
  readonly account: string;
  readonly region: string;
  readonly instanceId: string;
  readonly findingId: string;
  readonly runId: string;
  readonly capturedAt: string;
  /** Whether every object listed (and the manifest) carries a legal hold. */
  readonly legalHold?: boolean;
  readonly objects: readonly EvidenceObject[];
}

interface Collected {
  readonly name: EvidenceName;
  /** The API call(s) that produced the data, for whoever reads the evidence later. */
  readonly source: string;
  readonly data: unknown;
}

/**
 * Where the evidence of this run goes: under the run id of the first
 * attempt at the same work. A retry after a crash then finds the evidence
 * the killed attempt captured (its manifest, or the objects it had written
 * before it died, kept as they are) instead of capturing it a second time.
 */
const prefixOf = (context: ActionContext, instanceId: string): string => `evidence/${context.target.account}/${instanceId}/${context.earlierRunIds?.at(-1) ?? context.runId}/`;

const bucketOf = (context: ActionContext): string => evidenceBucketOf(ACTION, context);

/**
 * Console output as received and, when it is base64 (as AWS sends it) of
 * mostly printable text, decoded. Some emulators send the text itself.
 */
export function readConsoleOutput(received: string | undefined): { format: 'base64' | 'text' | 'empty'; output: string } {
  if (received === undefined || received === '') return { format: 'empty', output: '' };
  const compact = received.replace(/\s+/g, '');
  if (compact.length > 0 && compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    const characters = Array.from(decoded);
    // Tabs and line ends are printable here; control characters and U+FFFD (invalid UTF-8) are not.
    const printable = characters.filter(
      (character) => /[\t\n\r]/.test(character) || (character >= ' ' && character !== '\u007f' && character !== '\ufffd' && !(character >= '\u0080' && character < '\u00a0')),
    ).length;
    if (characters.length > 0 && printable / characters.length >= 0.9) return { format: 'base64', output: decoded };
  }
  return { format: 'text', output: received };
}

async function consoleOutputEvidence(ec2: EC2Client, instanceId: string): Promise<Collected> {
  const response = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId }));
  const { format, output } = readConsoleOutput(response.Output);
  return {
    name: 'console-output',
    source: 'ec2:GetConsoleOutput',
    data: { timestamp: response.Timestamp, format, output, ...(format === 'base64' ? { outputAsReceived: response.Output } : {}) },
  };
}

async function screenshotEvidence(ec2: EC2Client, instanceId: string): Promise<Collected> {
  // Never fails the step: the emulator lacks the call (EmulatorUnsupportedOperationError), and
  // AWS refuses it for some instance types; either way the evidence says why there is none.
  let data: unknown;
  try {
    const response = await ec2.send(new GetConsoleScreenshotCommand({ InstanceId: instanceId, WakeUp: false }));
    data = { available: true, format: 'image/jpeg;base64', imageData: response.ImageData };
  } catch (error) {
    data = { available: false, reason: `screenshot unavailable: ${errorName(error) ?? 'Error'}: ${(error as Error).message ?? String(error)}` };
  }
  return { name: 'console-screenshot', source: 'ec2:GetConsoleScreenshot', data };
}

/** What the member account says of the instance: everything but its console. */
interface InstanceMetadata {
  readonly instance: Instance;
  readonly volumes: readonly Volume[];
  readonly interfaces: readonly NetworkInterface[];
  readonly profiles: readonly IamInstanceProfileAssociation[];
  readonly groups: readonly SecurityGroup[];
}

/**
 * The instance's description, volumes, interfaces, profile associations and
 * security groups, read in one round after the instance (the groups are
 * those its description names). The plan reads exactly this, so a run that
 * has changed nothing yet — this step changes nothing in the member
 * account — records what the plan saw: the state before the run's changes,
 * even while isolation runs beside it (src/aws/run-read-memo.ts).
 */
async function readMetadata(context: ActionContext): Promise<InstanceMetadata> {
  const instance = await describeInstance(ACTION, context);
  const ec2 = context.clients.create(EC2Client, context.target);
  const instanceId = instance.InstanceId as string;
  const byInstance = { Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] };
  const groupIds = [
    ...new Set([...(instance.SecurityGroups ?? []), ...(instance.NetworkInterfaces ?? []).flatMap((eni) => eni.Groups ?? [])].flatMap((group) => (group.GroupId === undefined ? [] : [group.GroupId]))),
  ].sort();
  const all = async <Page, Item>(pages: AsyncIterable<Page>, items: (page: Page) => readonly Item[] | undefined): Promise<Item[]> => {
    const found: Item[] = [];
    for await (const page of pages) found.push(...(items(page) ?? []));
    return found;
  };
  const [volumes, interfaces, profiles, groups] = await Promise.all([
    all(paginateDescribeVolumes({ client: ec2 }, byInstance), (page) => page.Volumes),
    all(paginateDescribeNetworkInterfaces({ client: ec2 }, byInstance), (page) => page.NetworkInterfaces),
    all(paginateDescribeIamInstanceProfileAssociations({ client: ec2 }, { Filters: [{ Name: 'instance-id', Values: [instanceId] }] }), (page) => page.IamInstanceProfileAssociations),
    groupIds.length === 0 ? Promise.resolve<SecurityGroup[]>([]) : ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds })).then((answer) => answer.SecurityGroups ?? []),
  ]);
  return { instance, volumes, interfaces, profiles, groups };
}

async function collect(context: ActionContext, wanted: Params): Promise<{ instanceId: string; evidence: Collected[] }> {
  const ec2 = context.clients.create(EC2Client, context.target);
  const instanceId = instanceIdOf(ACTION, context);
  // The console is read beside the rest: it is the instance's own, not the run's to change. All three settle before
  // any failure is thrown, and the description's comes first: an unknown instance is an InstanceNotFoundError
  // whichever answer arrives first.
  const [metadata, consoleRead, screenshotRead] = await Promise.allSettled([
    readMetadata(context),
    wanted.consoleOutput ? consoleOutputEvidence(ec2, instanceId) : Promise.resolve(undefined),
    wanted.screenshot ? screenshotEvidence(ec2, instanceId) : Promise.resolve(undefined),
  ]);
  for (const read of [metadata, consoleRead, screenshotRead]) if (read.status === 'rejected') throw read.reason;
  const { instance, volumes, interfaces, profiles, groups } = (metadata as PromiseFulfilledResult<InstanceMetadata>).value;
  const consoleOutput = (consoleRead as PromiseFulfilledResult<Collected | undefined>).value;
  const screenshot = (screenshotRead as PromiseFulfilledResult<Collected | undefined>).value;

  const evidence: Collected[] = [
    { name: 'instance', source: 'ec2:DescribeInstances', data: instance },
    { name: 'volumes', source: 'ec2:DescribeVolumes (attachment.instance-id)', data: volumes },
    { name: 'network-interfaces', source: 'ec2:DescribeNetworkInterfaces (attachment.instance-id)', data: interfaces },
    { name: 'security-groups', source: "ec2:DescribeSecurityGroups (the interfaces' groups)", data: groups },
    { name: 'iam-instance-profile-associations', source: 'ec2:DescribeIamInstanceProfileAssociations (instance-id)', data: profiles },
    { name: 'tags', source: 'ec2:DescribeInstances', data: Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])) },
  ];
  if (consoleOutput !== undefined) evidence.push(consoleOutput);
  if (screenshot !== undefined) evidence.push(screenshot);
  return { instanceId, evidence };
}

const objectOf = (name: string, key: string, stored: WriteOnceResult): EvidenceObject => ({
  name,
  key,
  sha256: stored.sha256,
  bytes: stored.bytes,
  ...(stored.versionId === undefined ? {} : { versionId: stored.versionId }),
  ...(stored.written ? {} : { keptFromEarlierAttempt: true as const }),
});

/** Writes `<name>.json`, then `<name>.json.sha256` beside it (in `sha256sum` format, so `sha256sum -c` checks a download). */
async function writeEvidence(s3: S3Client, bucket: string, prefix: string, name: string, document: unknown, options: WriteOptions): Promise<EvidenceObject> {
  const key = `${prefix}${name}.json`;
  return objectOf(name, key, await writeJsonEvidence(s3, bucket, key, document, options));
}

/** What is stored of the manifest: the manifest itself, and its signature file. One listing answers both. */
async function manifestFiles(s3: S3Client, bucket: string, key: string): Promise<{ manifest: boolean; signature: boolean }> {
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 10 }));
  const keys = new Set((Contents ?? []).map((object) => object.Key));
  return { manifest: keys.has(key), signature: keys.has(`${key}${SIGNATURE_SUFFIX}`) };
}

interface StoredManifest {
  readonly manifest: EvidenceManifest;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly recorded: string | undefined;
  readonly legalHold: 'ON' | 'OFF' | undefined;
}

async function readManifest(s3: S3Client, bucket: string, key: string): Promise<StoredManifest | undefined> {
  const object = await readObject(s3, bucket, key);
  if (object === undefined) return undefined;
  return {
    manifest: JSON.parse(Buffer.from(object.bytes).toString('utf8')) as EvidenceManifest,
    bytes: object.bytes,
    sha256: sha256(object.bytes),
    recorded: object.metadata[DIGEST_METADATA],
    legalHold: object.legalHold,
  };
}

const signingContext = (context: ActionContext, signer: ManifestSigner): ErrorContext => ({
  account: context.target.account,
  region: context.target.region,
  resource: signer.keyId,
  step: ACTION,
  runId: context.runId,
});

interface StoredSignature {
  readonly key: string;
  readonly signature: ManifestSignature;
  readonly stored: WriteOnceResult;
}

/** Stores the manifest's signature file beside it (`manifest.json.sig`), once. */
async function storeSignature(s3: S3Client, bucket: string, manifestKey: string, signature: ManifestSignature, options: WriteOptions): Promise<StoredSignature> {
  const key = `${manifestKey}${SIGNATURE_SUFFIX}`;
  return { key, signature, stored: await writeOnce(s3, bucket, key, jsonBytes(signature), 'application/json', options) };
}

const changesOf = (objects: readonly EvidenceObject[]): PlannedChange[] =>
  objects.map((object) => ({
    field: `evidence.${object.name}`,
    from: null,
    to: { key: object.key, sha256: object.sha256, ...(object.versionId === undefined ? {} : { versionId: object.versionId }) },
  }));

const signatureChange = (written: StoredSignature): PlannedChange => ({
  field: 'evidence.manifest-signature',
  from: null,
  to: { key: written.key, sha256: written.stored.sha256, keyId: written.signature.keyId, signingAlgorithm: written.signature.signingAlgorithm, manifestSha256: written.signature.manifestSha256 },
});

const namesWanted = (wanted: Params): EvidenceName[] => EVIDENCE_NAMES.filter((name) => (name === 'console-output' ? wanted.consoleOutput : name === 'console-screenshot' ? wanted.screenshot : true));

/**
 * Captures the instance's description, volumes, network interfaces, their
 * security groups, instance profile associations, tags, console output and
 * console screenshot as JSON evidence objects in the evidence bucket of the
 * instance's own Region, at
 * `evidence/<account>/<instanceId>/<runId>/<name>.json` (for a retry, the first attempt's run id). Each object's
 * SHA-256 (hex, over the exact bytes stored) is kept as object metadata
 * (`x-amz-meta-sha256`), beside it as `<name>.json.sha256`, in the step's
 * record, and in a `manifest.json` written last, which lists every object
 * with its digest and version. Where the deployment names a signing key, the
 * manifest is signed with it (KMS Sign over its SHA-256) and the signature,
 * with the key's ARN, is stored beside it as `manifest.json.sig`: anyone with
 * the key's public key checks the manifest offline (`riposte evidence
 * verify`). Objects are written once and never replaced; the bucket's Object
 * Lock retention applies to each, and `legalHold: true` places a legal hold
 * on every object the step writes, with the write itself.
 *
 * Changes nothing in the member account. Idempotent per run: once this run's
 * manifest exists (and its signature, where one is due), a second run writes
 * nothing. `verify()` re-reads every object the manifest lists and checks its
 * digest (chain of custody), the manifest's signature with the public key,
 * and the legal holds asked for. A screenshot that cannot be taken is
 * recorded as unavailable, with the reason; it never fails the step.
 *
 * ```yaml
 * - ec2.capture-metadata: { consoleOutput: true, screenshot: false, legalHold: true }
 * ```
 */
export const captureMetadata = defineAction({
  name: ACTION,
  description: 'Capture instance metadata and console output as evidence in its Region, with SHA-256 digests and a signed manifest',
  params,
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeInstances',
      'ec2:DescribeVolumes',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeIamInstanceProfileAssociations',
      'ec2:GetConsoleOutput',
      'ec2:GetConsoleScreenshot',
    ],
    // ListObjectsV2 is s3:ListBucket; it also makes GetObject of a missing key answer 404, not 403.
    // The signing key's kms:Sign and kms:GetPublicKey are granted by the key's own policy (serverless.yml).
    hosting: ['s3:PutObject', 's3:GetObject', 's3:ListBucket', 's3:PutObjectLegalHold'],
  },
  changesResources: false,
  behaviour: {
    async plan(context, wanted: Params) {
      const bucket = bucketOf(context);
      const instanceId = instanceIdOf(ACTION, context);
      // The metadata is read now as the run will read it (see readMetadata); the console is not (it is large, and the run's alone).
      const prefix = prefixOf(context, instanceId);
      const signer = context.hosting.evidenceSigner;
      const [, stored] = await Promise.all([readMetadata(context), manifestFiles(evidenceS3Of(context), bucket, `${prefix}${MANIFEST}.json`)]);
      const done = stored.manifest && (signer === undefined || stored.signature);
      const names = namesWanted(wanted);
      const signing = signer === undefined ? 'unsigned (no signing key configured)' : `signed with KMS key ${signer.keyId} (${signer.algorithm})`;
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        compliant: done,
        summary: done
          ? `evidence for run ${context.runId} already captured at s3://${bucket}/${prefix}`
          : `would capture ${names.join(', ')} of ${instanceId} to s3://${bucket}/${prefix}, with SHA-256 digests and a manifest ${signing}${wanted.legalHold ? ', each under a legal hold' : ''}`,
        changes: done
          ? []
          : [
              ...(stored.manifest ? [] : [...names, MANIFEST].map((name) => ({ field: `evidence.${name}`, from: null, to: `${prefix}${name}.json` }))),
              ...(signer === undefined ? [] : [{ field: 'evidence.manifest-signature', from: null, to: `${prefix}${MANIFEST}.json${SIGNATURE_SUFFIX}` }]),
            ],
      };
    },

    async run(context, wanted: Params) {
      const bucket = bucketOf(context);
      const options: WriteOptions = { legalHold: wanted.legalHold };
      const signer = context.hosting.evidenceSigner;
      // Checked before anything is read from the member account; the instance id is checked again by collect().
      const s3 = evidenceS3Of(context);
      const earlyPrefix = prefixOf(context, instanceIdOf(ACTION, context));
      const manifestKey = `${earlyPrefix}${MANIFEST}.json`;
      const stored = await manifestFiles(s3, bucket, manifestKey);
      const earlyManifest = stored.manifest ? await readManifest(s3, bucket, manifestKey) : undefined;
      if (earlyManifest !== undefined) {
        // An earlier attempt stored the manifest and died before signing it: the manifest stored is what is signed.
        const signed =
          signer !== undefined && !stored.signature ? await storeSignature(s3, bucket, manifestKey, await signer.sign(earlyManifest.bytes, signingContext(context, signer)), options) : undefined;
        return {
          action: ACTION,
          resource: instanceArnOf(context, earlyManifest.manifest.instanceId),
          changed: signed !== undefined,
          summary:
            signed === undefined
              ? `evidence for run ${context.runId} already captured (${earlyManifest.manifest.objects.length} objects in s3://${bucket}/${earlyPrefix}); nothing written`
              : `evidence for run ${context.runId} already captured (${earlyManifest.manifest.objects.length} objects in s3://${bucket}/${earlyPrefix}); its manifest (sha256 ${earlyManifest.sha256}) signed with ${signed.signature.keyId}`,
          changes: signed === undefined ? [] : [signatureChange(signed)],
        };
      }

      const { instanceId, evidence } = await collect(context, wanted);
      const prefix = prefixOf(context, instanceId);
      const capturedAt = new Date().toISOString();
      const header = { account: context.target.account, region: context.target.region, instanceId, findingId: context.finding.id, runId: context.runId, capturedAt };
      const objects = await allWritesSettled(
        evidence.map((item) => writeEvidence(s3, bucket, prefix, item.name, { schema: 'riposte.evidence/1', name: item.name, source: item.source, ...header, data: item.data }, options)),
      );
      const manifest: EvidenceManifest = { schema: 'riposte.evidence-manifest/1', bucket, ...header, legalHold: wanted.legalHold, objects };
      const manifestBytes = jsonBytes(manifest);
      // The manifest is stored and signed at once (KMS signs its digest, not the object), then its digest file and the signature.
      const [storedManifest, signature] = await bothSettled(
        writeOnce(s3, bucket, manifestKey, manifestBytes, 'application/json', options),
        signer === undefined ? Promise.resolve(undefined) : signer.sign(manifestBytes, signingContext(context, signer)),
      );
      // Another attempt of this run may have written a manifest in between: as any evidence object, that one stands, and is what is signed.
      const other = storedManifest.written || signer === undefined ? undefined : await readManifest(s3, bucket, manifestKey);
      const manifestSignature = other === undefined || signer === undefined ? signature : await signer.sign(other.bytes, signingContext(context, signer));
      const [signed] = await bothSettled(
        manifestSignature === undefined ? Promise.resolve(undefined) : storeSignature(s3, bucket, manifestKey, manifestSignature, options),
        writeDigestFile(s3, bucket, manifestKey, storedManifest.sha256, options),
      );
      const written = objectOf(MANIFEST, manifestKey, storedManifest);
      const kept = objects.filter((object) => object.keptFromEarlierAttempt === true).map((object) => object.name);
      const screenshot = evidence.find((item) => item.name === 'console-screenshot')?.data as { available?: boolean; reason?: string } | undefined;
      return {
        action: ACTION,
        resource: instanceArnOf(context, instanceId),
        changed: true,
        summary: `captured ${objects.map((object) => object.name).join(', ')} of ${instanceId} to s3://${bucket}/${prefix} (manifest sha256 ${written.sha256}, ${signed === undefined ? 'unsigned: no signing key configured' : `signed with ${signed.signature.keyId}`}${wanted.legalHold ? ', legal hold on every object' : ''})${kept.length === 0 ? '' : `; kept from an earlier attempt of this run: ${kept.join(', ')}`}${screenshot?.available === false ? `; ${screenshot.reason}` : ''}`,
        changes: [...changesOf([...objects, written]), ...(signed === undefined ? [] : [signatureChange(signed)])],
      };
    },

    async verify(context, wanted: Params) {
      const bucket = bucketOf(context);
      const s3 = evidenceS3Of(context);
      const signer = context.hosting.evidenceSigner;
      const prefix = prefixOf(context, instanceIdOf(ACTION, context));
      const key = `${prefix}${MANIFEST}.json`;
      const [read, signatureFile, publicKey] = await Promise.all([
        readManifest(s3, bucket, key),
        signer === undefined ? Promise.resolve(undefined) : readObject(s3, bucket, `${key}${SIGNATURE_SUFFIX}`),
        signer === undefined ? Promise.resolve(undefined) : signer.publicKey(),
      ]);
      if (read === undefined) return { compliant: false, summary: `no evidence manifest for run ${context.runId} at s3://${bucket}/${key}` };

      const failing: string[] = [];
      if (read.recorded !== read.sha256) failing.push(`${key}: SHA-256 ${read.sha256} differs from the digest recorded with it (${read.recorded ?? 'none'})`);
      if (wanted.legalHold && read.legalHold !== 'ON') failing.push(`${key} has no legal hold`);
      if (signer !== undefined) {
        if (signatureFile === undefined) failing.push(`${key} is not signed: no ${key}${SIGNATURE_SUFFIX}`);
        else {
          const checked = verifyManifestSignature({ manifest: read.bytes, signature: signatureFile.bytes, publicKey: publicKey as string });
          failing.push(...checked.problems.map((problem) => `${key}: ${problem}`));
        }
      }
      const checked = await Promise.all(
        read.manifest.objects.map(async (object) => {
          const stored = await readObject(s3, bucket, object.key);
          if (stored === undefined) return [`${object.key} is missing`];
          const digest = sha256(stored.bytes);
          return [
            ...(digest === object.sha256 ? [] : [`${object.key}: SHA-256 ${digest} differs from the recorded ${object.sha256}`]),
            ...(wanted.legalHold && stored.legalHold !== 'ON' ? [`${object.key} has no legal hold`] : []),
          ];
        }),
      );
      failing.push(...checked.flat());
      const signedBy = signer === undefined ? '' : `; manifest signature checked with the public key of ${signer.keyId}`;
      return {
        compliant: failing.length === 0,
        summary:
          failing.length === 0
            ? `all ${read.manifest.objects.length} evidence objects of run ${context.runId} match their recorded SHA-256 digests (manifest s3://${bucket}/${key})${signedBy}${wanted.legalHold ? '; every object under a legal hold' : ''}`
            : `evidence does not match its digests: ${failing.join('; ')}`,
      };
    },
  },
});
