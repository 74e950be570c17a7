import { CreateBucketCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * An evidence bucket on the emulator as the stack makes it (serverless.yml's
 * EvidenceBucket, `riposte evidence template`): Object Lock on, which a legal
 * hold needs, with a default retention in governance mode.
 */
export async function createEvidenceBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
}
