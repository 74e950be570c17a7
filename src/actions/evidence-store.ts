import { createHash } from 'node:crypto';

import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

import { runReadMemoPlugin } from '../aws/index.js';
import { EvidenceBucketNotConfiguredError } from './errors.js';
import type { ActionContext } from './runtime.js';

/*
 * Storing and reading evidence objects, with their SHA-256 digests, in the
 * evidence bucket (`hosting.evidenceBucket`). Callers need `s3:PutObject`,
 * `s3:GetObject` and `s3:ListBucket` on the hosting side: without
 * `s3:ListBucket`, GetObject of a missing key answers 403, not 404, and
 * readObject() could not tell "missing" from "denied".
 */

/** Object metadata key holding the hex SHA-256 of the object's bytes (`x-amz-meta-sha256`). */
export const DIGEST_METADATA = 'sha256';

/** Hex SHA-256 of `data` (a string is hashed as UTF-8). */
export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * The configured evidence bucket.
 * @param action - The action asking, named in the error.
 * @throws EvidenceBucketNotConfiguredError when `hosting.evidenceBucket` is unset or empty.
 */
export function evidenceBucketOf(action: string, context: ActionContext): string {
  const bucket = context.hosting.evidenceBucket;
  if (bucket === undefined || bucket === '') throw new EvidenceBucketNotConfiguredError(action, context);
  return bucket;
}

/** The evidence reads a run shares: listings (an object's bytes stream, and are read whole each time). */
const EVIDENCE_SHARED_READS: ReadonlySet<string> = new Set(['ListObjectsV2Command']);

/** An S3 client for the hosting account, where the evidence bucket is (path-style addressing). */
export function evidenceS3Of(context: ActionContext): S3Client {
  const s3 = context.hosting.factory.create(S3Client, {}, { forcePathStyle: true });
  // The run's reads of its evidence are shared like its reads of the member account: the plan's look for a
  // manifest answers the run's, until the run writes evidence (src/aws/run-read-memo.ts).
  s3.middlewareStack.use(runReadMemoPlugin('S3Client/hosting/evidence', { reads: EVIDENCE_SHARED_READS }));
  return s3;
}

/** An object as read back from the evidence bucket. */
export interface StoredObject {
  readonly bytes: Uint8Array;
  /** User metadata (`x-amz-meta-*`), keys without the prefix; the digest is under {@link DIGEST_METADATA}. */
  readonly metadata: Record<string, string>;
}

/** The object's bytes and metadata, or `undefined` when there is no such object (NoSuchKey). */
export async function readObject(s3: S3Client, bucket: string, key: string): Promise<StoredObject | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { bytes: (await response.Body?.transformToByteArray()) ?? new Uint8Array(), metadata: response.Metadata ?? {} };
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
}

/**
 * Writes the object only if none is there (If-None-Match: *): evidence is
 * written once and never replaced. The digest is stored as metadata
 * ({@link DIGEST_METADATA}) and sent as ChecksumSHA256, so S3 checks the
 * bytes it receives. When a failed earlier attempt of the same run already
 * wrote the object, that object stands and its own digest is returned.
 */
export async function writeOnce(s3: S3Client, bucket: string, key: string, bytes: Uint8Array, contentType: string): Promise<WriteOnceResult> {
  const digest = sha256(bytes);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        Metadata: { [DIGEST_METADATA]: digest },
        // S3 checks the bytes it receives against this digest (base64 of the same SHA-256).
        ChecksumSHA256: Buffer.from(digest, 'hex').toString('base64'),
        IfNoneMatch: '*',
      }),
    );
    return { sha256: digest, bytes: bytes.byteLength, written: true };
  } catch (error) {
    // S3 models no PreconditionFailed shape: the conditional write's refusal is told by its code.
    if (!(error instanceof S3ServiceException && error.name === 'PreconditionFailed')) throw error;
    const existing = await readObject(s3, bucket, key);
    if (existing === undefined) throw error;
    return { sha256: sha256(existing.bytes), bytes: existing.bytes.byteLength, written: false };
  }
}

/**
 * Writes `document` as pretty-printed JSON at `key` (once, see
 * {@link writeOnce}), then `<key>.sha256` beside it in `sha256sum` format
 * (`<digest>  <file name>`), so `sha256sum -c` checks a download. Returns
 * what is stored at `key`.
 */
export async function writeJsonEvidence(s3: S3Client, bucket: string, key: string, document: unknown): Promise<WriteOnceResult> {
  const stored = await writeOnce(s3, bucket, key, Buffer.from(`${JSON.stringify(document, null, 2)}\n`, 'utf8'), 'application/json');
  await writeOnce(s3, bucket, `${key}.sha256`, Buffer.from(`${stored.sha256}  ${key.slice(key.lastIndexOf('/') + 1)}\n`, 'utf8'), 'text/plain');
  return stored;
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
