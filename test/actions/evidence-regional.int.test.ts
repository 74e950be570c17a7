import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';

import { captureMetadata, type EvidenceManifest } from '../../src/actions/ec2-capture-metadata.js';
import { EvidenceBucketNotInRegionError } from '../../src/actions/evidence-errors.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { fetchPublicKeyPem, kmsManifestSigner, parseManifestSignature, verifyManifestSignature } from '../../src/evidence/index.js';
import { actionContext } from '../support/action-context.js';
import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';
import { createSigningKey, emulatorKmsSigningApi } from '../support/emulator-kms.js';
import { riposte } from '../cli/run-cli.js';

/*
 * Issue 17, "Evidence that holds up", against the emulator: evidence about an
 * instance goes to the evidence bucket of the instance's own Region (Object
 * Lock, a default retention, a legal hold when asked), every object carries
 * its SHA-256 in its metadata and the step's record, and the manifest is
 * signed with an asymmetric KMS key, then checked with the public key alone.
 */

const MEMBER = '222222222222';
const HOSTING = '123456789012';
const HOME_BUCKET = 'riposte-evidence-test';
const EU_BUCKET = `riposte-evidence-${HOSTING}-eu-west-1`;
const RETENTION_DAYS = 30;

const capture = captureMetadata.behaviour;
const hostingS3 = (region: string): S3Client => emulatorClientFactory().create(S3Client, { region }, { forcePathStyle: true });

/** A bucket with Object Lock and a GOVERNANCE default retention, in `region`, as the evidence bucket template makes it. */
async function lockedBucket(name: string, region: string): Promise<void> {
  const s3 = hostingS3(region);
  await s3.send(
    new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }) }),
  );
  await s3.send(
    new PutObjectLockConfigurationCommand({ Bucket: name, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: RETENTION_DAYS } } } }),
  );
}

async function keysIn(bucket: string, region: string): Promise<string[]> {
  const { Contents } = await hostingS3(region).send(new ListObjectsV2Command({ Bucket: bucket }));
  return (Contents ?? []).map((object) => object.Key as string).sort();
}

async function bytesOf(bucket: string, region: string, key: string): Promise<{ bytes: Uint8Array; metadata: Record<string, string> }> {
  const answer = await hostingS3(region).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { bytes: (await answer.Body?.transformToByteArray()) ?? new Uint8Array(), metadata: answer.Metadata ?? {} };
}

/** The finding's context, moved to an instance of `region` in the member account, with the hosting side's evidence settings. */
async function instanceIn(region: string, hosting: Partial<ActionContext['hosting']>): Promise<{ ctx: ActionContext; instanceId: string }> {
  const base = actionContext('guardduty-ec2-backdoor.json', MEMBER);
  const target = { ...base.target, region };
  const { Instances } = await base.clients.create(EC2Client, target).send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
  const instanceId = Instances?.[0]?.InstanceId as string;
  return {
    ctx: {
      ...base,
      target,
      hosting: { ...base.hosting, evidenceBucket: HOME_BUCKET, evidenceBuckets: { 'eu-west-1': EU_BUCKET }, ...hosting },
      resource: { ...base.resource, instanceId, region, arn: `arn:aws:ec2:${region}:${MEMBER}:instance/${instanceId}` },
    },
    instanceId,
  };
}

describe('ec2.capture-metadata with per-Region evidence buckets and a signing key, against the emulator', () => {
  beforeEach(async () => {
    await resetEmulator();
    await Promise.all([lockedBucket(HOME_BUCKET, 'us-east-1'), lockedBucket(EU_BUCKET, 'eu-west-1')]);
  });

  it('stores the evidence of an eu-west-1 instance in the eu-west-1 bucket only, locked and on legal hold, digests in metadata and in the record, with a manifest signed by KMS that checks with the public key alone', async () => {
    const factory = emulatorClientFactory();
    const key = await createSigningKey(factory, 'ECC_NIST_P256');
    const kms = emulatorKmsSigningApi(factory);
    const { ctx, instanceId } = await instanceIn('eu-west-1', { evidenceSigner: kmsManifestSigner(kms, key.Arn) });
    const wanted = captureMetadata.params.parse({ legalHold: true, screenshot: false });
    const prefix = `evidence/${MEMBER}/${instanceId}/r-test/`;

    const plan = await capture.plan(ctx, wanted);
    expect(plan.summary).toContain(`s3://${EU_BUCKET}/${prefix}`);
    expect(plan.summary).toContain(`signed with KMS key ${key.Arn} (ECDSA_SHA_256), each under a legal hold`);
    expect(plan.changes.map((change) => change.field)).toContain('evidence.manifest-signature');

    const outcome = await capture.run(ctx, wanted);

    // The bucket is the instance's Region's, with Object Lock; the home Region's received nothing.
    expect((await hostingS3('eu-west-1').send(new GetBucketLocationCommand({ Bucket: EU_BUCKET }))).LocationConstraint).toBe('eu-west-1');
    expect((await hostingS3('eu-west-1').send(new GetObjectLockConfigurationCommand({ Bucket: EU_BUCKET }))).ObjectLockConfiguration).toMatchObject({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: RETENTION_DAYS } },
    });
    expect(await keysIn(HOME_BUCKET, 'us-east-1')).toEqual([]);
    const names = ['instance', 'volumes', 'network-interfaces', 'security-groups', 'iam-instance-profile-associations', 'tags', 'console-output', 'manifest'];
    expect(await keysIn(EU_BUCKET, 'eu-west-1')).toEqual([...names.flatMap((name) => [`${prefix}${name}.json`, `${prefix}${name}.json.sha256`]), `${prefix}manifest.json.sig`].sort());

    // Every artifact's SHA-256 in the step's record and in the object's metadata; each object locked and held.
    expect(outcome.changes.map((change) => change.field)).toEqual([...names.map((name) => `evidence.${name}`), 'evidence.manifest-signature']);
    const s3 = hostingS3('eu-west-1');
    for (const change of outcome.changes) {
      const { key: objectKey, sha256 } = change.to as { key: string; sha256: string };
      const stored = await bytesOf(EU_BUCKET, 'eu-west-1', objectKey);
      expect(stored.metadata.sha256, objectKey).toBe(sha256);
      expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: EU_BUCKET, Key: objectKey }))).LegalHold?.Status, objectKey).toBe('ON');
      const { Retention } = await s3.send(new GetObjectRetentionCommand({ Bucket: EU_BUCKET, Key: objectKey }));
      expect(Retention?.Mode, objectKey).toBe('GOVERNANCE');
      expect(Retention?.RetainUntilDate?.getTime(), objectKey).toBeGreaterThan(Date.now() + (RETENTION_DAYS - 1) * 86_400_000);
    }
    const manifestKey = `${prefix}manifest.json`;
    const manifestBytes = (await bytesOf(EU_BUCKET, 'eu-west-1', manifestKey)).bytes;
    const manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as EvidenceManifest;
    expect(manifest).toMatchObject({ bucket: EU_BUCKET, region: 'eu-west-1', account: MEMBER, instanceId, legalHold: true });
    expect(manifest.objects.every((object) => typeof object.versionId === 'string' && /^[0-9a-f]{64}$/.test(object.sha256))).toBe(true);
    expect(outcome.changes.at(-1)?.to).toMatchObject({ key: `${manifestKey}.sig`, keyId: key.Arn, signingAlgorithm: 'ECDSA_SHA_256' });
    expect(kms.calls).toEqual(['Sign']);

    // The investigator: GetPublicKey once, then everything offline.
    const publicKey = await fetchPublicKeyPem(kms, key.Arn);
    const signatureBytes = (await bytesOf(EU_BUCKET, 'eu-west-1', `${manifestKey}.sig`)).bytes;
    expect(parseManifestSignature(signatureBytes)).toMatchObject({ keyId: key.Arn, messageType: 'DIGEST' });
    expect(verifyManifestSignature({ manifest: manifestBytes, signature: signatureBytes, publicKey })).toMatchObject({ valid: true, problems: [] });
    const tampered = Buffer.from(Buffer.from(manifestBytes).toString('utf8').replace(instanceId, 'i-0000000000000000f'), 'utf8');
    const refused = verifyManifestSignature({ manifest: tampered, signature: signatureBytes, publicKey });
    expect(refused.valid).toBe(false);
    expect(refused.problems.join('\n')).toMatch(/not the one signed[\s\S]*does not check with this public key/);

    // The same through `riposte evidence verify`, with the downloaded objects checked against the manifest.
    const directory = mkdtempSync(join(tmpdir(), 'riposte-evidence-'));
    writeFileSync(join(directory, 'manifest.json'), manifestBytes);
    writeFileSync(join(directory, 'manifest.json.sig'), signatureBytes);
    writeFileSync(join(directory, 'key.pem'), publicKey);
    writeFileSync(join(directory, 'tampered.json'), tampered);
    const objects = join(directory, 'objects');
    mkdirSync(objects);
    for (const object of manifest.objects) writeFileSync(join(objects, object.key.slice(prefix.length)), (await bytesOf(EU_BUCKET, 'eu-west-1', object.key)).bytes);
    const args = ['--signature', join(directory, 'manifest.json.sig'), '--public-key', join(directory, 'key.pem')];
    const good = await riposte(['evidence', 'verify', '--manifest', join(directory, 'manifest.json'), ...args, '--objects', objects]);
    expect(good.stderr).toBe('');
    expect(good.stdout).toContain(`manifest signature valid: ECDSA_SHA_256 by ${key.Arn}`);
    expect(good.stdout).toContain(`ok       ${prefix}volumes.json`);
    expect(good.status).toBe(0);
    const bad = await riposte(['evidence', 'verify', '--manifest', join(directory, 'tampered.json'), ...args]);
    expect(bad.stdout).toContain('evidence NOT verified');
    expect(bad.status).toBe(1);

    // verify() reads it all back; a second run writes nothing; a new version of the manifest is refused.
    expect(await capture.verify(ctx, wanted)).toMatchObject({ compliant: true, summary: expect.stringContaining(`manifest signature checked with the public key of ${key.Arn}`) });
    expect(await capture.run(ctx, wanted)).toMatchObject({ changed: false, changes: [] });
    expect(kms.calls).toEqual(['Sign', 'GetPublicKey', 'GetPublicKey']);
    await s3.send(new PutObjectCommand({ Bucket: EU_BUCKET, Key: manifestKey, Body: tampered, Metadata: { sha256: 'f'.repeat(64) }, ChecksumAlgorithm: 'SHA256' }));
    const afterTampering = await capture.verify(ctx, wanted);
    expect(afterTampering.compliant).toBe(false);
    expect(afterTampering.summary).toContain('does not check with this public key');
    expect(afterTampering.summary).toContain(`${manifestKey} has no legal hold`);
  });

  it('refuses evidence about an instance in a Region with no bucket (EvidenceBucketNotInRegionError naming it), and writes nothing anywhere', async () => {
    const { ctx } = await instanceIn('ap-southeast-2', {});
    const wanted = captureMetadata.params.parse({});

    const error: unknown = await capture.run(ctx, wanted).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(EvidenceBucketNotInRegionError);
    expect(error).toMatchObject({
      code: 'ACTION_EVIDENCE_BUCKET_NOT_IN_REGION',
      retryable: false,
      region: 'ap-southeast-2',
      configuredRegions: ['eu-west-1', 'us-east-1'],
      context: { account: MEMBER, region: 'ap-southeast-2', step: 'ec2.capture-metadata', field: 'RIPOSTE_EVIDENCE_BUCKETS' },
    });
    expect((error as Error).message).toContain('no evidence bucket is configured in region ap-southeast-2');
    await expect(capture.plan(ctx, wanted)).rejects.toBeInstanceOf(EvidenceBucketNotInRegionError);
    expect(await keysIn(HOME_BUCKET, 'us-east-1')).toEqual([]);
    expect(await keysIn(EU_BUCKET, 'eu-west-1')).toEqual([]);
  });

  it('signs the manifest an earlier, unsigned attempt left, and only that, when a signing key is configured since', async () => {
    const factory = emulatorClientFactory();
    const key = await createSigningKey(factory, 'RSA_2048');
    const { ctx, instanceId } = await instanceIn('us-east-1', {});
    const wanted = captureMetadata.params.parse({ screenshot: false });
    await capture.run(ctx, wanted);
    const manifestKey = `evidence/${MEMBER}/${instanceId}/r-test/manifest.json`;
    expect(await keysIn(HOME_BUCKET, 'us-east-1')).not.toContain(`${manifestKey}.sig`);
    const signed: ActionContext = { ...ctx, hosting: { ...ctx.hosting, evidenceSigner: kmsManifestSigner(emulatorKmsSigningApi(factory), key.KeyId, 'RSASSA_PSS_SHA_256') } };
    expect((await capture.plan(signed, wanted)).changes.map((change) => change.field)).toEqual(['evidence.manifest-signature']);

    const outcome = await capture.run(signed, wanted);

    expect(outcome).toMatchObject({ changed: true, changes: [{ field: 'evidence.manifest-signature', to: { key: `${manifestKey}.sig`, keyId: key.Arn, signingAlgorithm: 'RSASSA_PSS_SHA_256' } }] });
    const manifest = (await bytesOf(HOME_BUCKET, 'us-east-1', manifestKey)).bytes;
    const signature = (await bytesOf(HOME_BUCKET, 'us-east-1', `${manifestKey}.sig`)).bytes;
    const publicKey = await fetchPublicKeyPem(emulatorKmsSigningApi(factory), key.KeyId);
    expect(verifyManifestSignature({ manifest, signature, publicKey }).valid).toBe(true);
    expect(await capture.verify(signed, wanted)).toMatchObject({ compliant: true });
  });
});
