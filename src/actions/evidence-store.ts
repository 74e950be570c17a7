import { createHash } from 'node:crypto';

import { GetObjectCommand, NoSuchKey, PutObjectCommand, PutObjectLegalHoldCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

import { runReadMemoPlugin } from '../aws/index.js';
import { EvidenceBucketNotInRegionError } from './evidence-errors.js';
import { EvidenceBucketNotConfiguredError } from './errors.js';
import type { ActionContext } from './runtime.js';

/*
 * Storing and reading evidence objects, with their SHA-256 digests, in the
 * evidence bucket of the Region the evidence is about. Callers need
 * `s3:PutObject`, `s3:GetObject` and `s3:ListBucket` on the hosting side
 * (and `s3:PutObjectLegalHold` to place legal holds): without
 * `s3:ListBucket`, GetObject of a missing key answers 403, not 404, and
 * readObject() could not tell "missing" from "denied".
 */

/** Object metadata key holding the hex SHA-256 of the object's bytes (`x-amz-meta-sha256`). */
export const DIGEST_METADATA = 'sha256';

/** Hex SHA-256 of `data` (a string is hashed as UTF-8). */
export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * The evidence buckets by Region: `hosting.evidenceBuckets`, and
 * `hosting.evidenceBucket` as the hosting Region's (the Region of the
 * hosting clients) where the map names none there.
 */
export function evidenceBucketsOf(context: ActionContext): Readonly<Record<string, string>> {
  const home = context.hosting.evidenceBucket;
  const buckets: Record<string, string> = home === undefined || home === '' ? {} : { [context.hosting.factory.settings.region]: home };
  for (const [region, bucket] of Object.entries(context.hosting.evidenceBuckets ?? {})) if (bucket !== '') buckets[region] = bucket;
  return buckets;
}

/**
 * The evidence bucket of the step's Region (`context.target.region`, the
 * Region of the resource the evidence is about).
 * @param action - The action asking, named in the error.
 * @throws EvidenceBucketNotConfiguredError when no evidence bucket is configured at all.
 * @throws EvidenceBucketNotInRegionError when buckets are configured, but none in that Region: evidence is not sent elsewhere.
 */
export function evidenceBucketOf(action: string, context: ActionContext): string {
  const buckets = evidenceBucketsOf(context);
  const regions = Object.keys(buckets).sort();
  if (regions.length === 0) throw new EvidenceBucketNotConfiguredError(action, context);
  const bucket = buckets[context.target.region];
  if (bucket === undefined) throw new EvidenceBucketNotInRegionError(action, context, regions);
  return bucket;
}

/** The evidence reads a run shares: listings (an object's bytes stream, and are read whole each time). */
const EVIDENCE_SHARED_READS: ReadonlySet<string> = new Set(['ListObjectsV2Command']);

/**
 * An S3 client for the hosting account in the step's Region, where that
 * Region's evidence bucket is (path-style addressing).
 */
export function evidenceS3Of(context: ActionContext): S3Client {
  const { region } = context.target;
  const s3 = context.hosting.factory.create(S3Client, { region }, { forcePathStyle: true });
  // The run's reads of its evidence are shared like its reads of the member account: the plan's look for a
  // manifest answers the run's, until the run writes evidence (src/aws/run-read-memo.ts).
  s3.middlewareStack.use(runReadMemoPlugin(`S3Client/hosting/evidence/${region}`, { reads: EVIDENCE_SHARED_READS }));
  return s3;
}

/** An object as read back from the evidence bucket. */
export interface StoredObject {
  readonly bytes: Uint8Array;
  /** User metadata (`x-amz-meta-*`), keys without the prefix; the digest is under {@link DIGEST_METADATA}. */
  readonly metadata: Record<string, string>;
  /** The version read (buckets with Object Lock are versioned). */
  readonly versionId?: string;
  /** Object Lock as GetObject reports it: the legal hold, and the retention's mode and end. */
  readonly legalHold?: 'ON' | 'OFF';
  readonly retentionMode?: string;
  readonly retainUntil?: Date;
}

/** The object's bytes, metadata and lock, or `undefined` when there is no such object (NoSuchKey). */
export async function readObject(s3: S3Client, bucket: string, key: string): Promise<StoredObject | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return {
      bytes: (await response.Body?.transformToByteArray()) ?? new Uint8Array(),
      metadata: response.Metadata ?? {},
      ...(response.VersionId === undefined ? {} : { versionId: response.VersionId }),
      ...(response.ObjectLockLegalHoldStatus === undefined ? {} : { legalHold: response.ObjectLockLegalHoldStatus }),
      ...(response.ObjectLockMode === undefined ? {} : { retentionMode: response.ObjectLockMode }),
      ...(response.ObjectLockRetainUntilDate === undefined ? {} : { retainUntil: response.ObjectLockRetainUntilDate }),
    };
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    throw error;
  }
}

/** What a write-once left in the bucket. */
export interface WriteOnceResult {
  /** Hex SHA-256 of the bytes now stored under the key. */
  readonly sha256: string;
  /** Size of the bytes now stored under the key. */
  readonly bytes: number;
  /** `false` when an earlier attempt had already written the object, which was kept. */
  readonly written: boolean;
  /** The version stored, where the bucket is versioned (as every bucket with Object Lock is). */
  readonly versionId?: string;
}

/** How evidence is written. */
export interface WriteOptions {
  /**
   * Place a legal hold on the object (`x-amz-object-lock-legal-hold: ON`
   * with the write itself, so the object never exists without it; on an
   * object an earlier attempt wrote, PutObjectLegalHold). Needs
   * `s3:PutObjectLegalHold` and a bucket with Object Lock.
   */
  readonly legalHold?: boolean;
}

/** Places a legal hold on the object (PutObjectLegalHold ON; idempotent). */
export async function placeLegalHold(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<void> {
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }), LegalHold: { Status: 'ON' } }));
}

/**
 * Writes the object only if none is there (If-None-Match: *): evidence is
 * written once and never replaced. The digest is stored as metadata
 * ({@link DIGEST_METADATA}) and sent as ChecksumSHA256, so S3 checks the
 * bytes it receives. When a failed earlier attempt of the same run already
 * wrote the object, that object stands and its own digest is returned.
 */
export async function writeOnce(s3: S3Client, bucket: string, key: string, bytes: Uint8Array, contentType: string, options: WriteOptions = {}): Promise<WriteOnceResult> {
  const digest = sha256(bytes);
  try {
    const { VersionId } = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        Metadata: { [DIGEST_METADATA]: digest },
        // S3 checks the bytes it receives against this digest (base64 of the same SHA-256). The algorithm is named
        // too (x-amz-sdk-checksum-algorithm): a bucket with an Object Lock default retention refuses a write
        // without it or Content-MD5 (PutObject: "required for any request to upload an object with a retention
        // period configured using Amazon S3 Object Lock").
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: Buffer.from(digest, 'hex').toString('base64'),
        IfNoneMatch: '*',
        ...(options.legalHold === true ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
      }),
    );
    return { sha256: digest, bytes: bytes.byteLength, written: true, ...(VersionId === undefined ? {} : { versionId: VersionId }) };
  } catch (error) {
    // S3 models no PreconditionFailed shape: the conditional write's refusal is told by its code.
    if (!(error instanceof S3ServiceException && error.name === 'PreconditionFailed')) throw error;
    const existing = await readObject(s3, bucket, key);
    if (existing === undefined) throw error;
    if (options.legalHold === true && existing.legalHold !== 'ON') await placeLegalHold(s3, bucket, key, existing.versionId);
    return { sha256: sha256(existing.bytes), bytes: existing.bytes.byteLength, written: false, ...(existing.versionId === undefined ? {} : { versionId: existing.versionId }) };
  }
}

/**
 * Writes `document` as pretty-printed JSON at `key` (once, see
 * {@link writeOnce}), then `<key>.sha256` beside it in `sha256sum` format
 * (`<digest>  <file name>`), so `sha256sum -c` checks a download. Returns
 * what is stored at `key`.
 */
export async function writeJsonEvidence(s3: S3Client, bucket: string, key: string, document: unknown, options: WriteOptions = {}): Promise<WriteOnceResult> {
  const stored = await writeOnce(s3, bucket, key, jsonBytes(document), 'application/json', options);
  await writeDigestFile(s3, bucket, key, stored.sha256, options);
  return stored;
}

/**
 * An evidence document about an instance, in the envelope every evidence
 * record shares (`riposte.evidence/1`): what it is, where it comes from, the
 * instance, finding and run it belongs to, when it was taken, then `data`.
 */
export function evidenceDocument(context: ActionContext, instanceId: string, evidence: { readonly name: string; readonly source: string; readonly data: unknown }): Record<string, unknown> {
  return {
    schema: 'riposte.evidence/1',
    name: evidence.name,
    source: evidence.source,
    account: context.target.account,
    region: context.target.region,
    instanceId,
    findingId: context.finding.id,
    runId: context.runId,
    capturedAt: new Date().toISOString(),
    data: evidence.data,
  };
}

/** A document as evidence stores it: pretty-printed JSON, one final line end. */
export const jsonBytes = (document: unknown): Uint8Array => Buffer.from(`${JSON.stringify(document, null, 2)}\n`, 'utf8');

/** Writes `<key>.sha256` (in `sha256sum` format: `<digest>  <file name>`) beside the object at `key`. */
export async function writeDigestFile(s3: S3Client, bucket: string, key: string, digest: string, options: WriteOptions = {}): Promise<WriteOnceResult> {
  return writeOnce(s3, bucket, `${key}.sha256`, Buffer.from(`${digest}  ${key.slice(key.lastIndexOf('/') + 1)}\n`, 'utf8'), 'text/plain', options);
}

/**
 * Every write settled, then their results, or the first failure. Unlike
 * `Promise.all`, a failure does not leave the other writes in flight when
 * the step ends: the step's record, a retry of the run, or a check of the
 * bucket after it never races evidence still being written.
 */
export async function allWritesSettled<T>(writes: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(writes);
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/** Two writes (or a write and a signature) of different kinds, as {@link allWritesSettled}: both settle before any failure is thrown. */
export async function bothSettled<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [one, two] = await Promise.allSettled([first, second]);
  if (one.status === 'rejected') throw one.reason;
  if (two.status === 'rejected') throw two.reason;
  return [one.value, two.value];
}
