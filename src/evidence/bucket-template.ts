/** Object Lock retention modes (S3 API: `ObjectLockRetentionMode`). */
export const RetentionMode = { Governance: 'GOVERNANCE', Compliance: 'COMPLIANCE' } as const;
export type RetentionMode = (typeof RetentionMode)[keyof typeof RetentionMode];

/** What a forensics account may do with an evidence bucket: read the objects, their versions, holds and retention, and list them. */
export const FORENSICS_READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectLegalHold', 's3:GetObjectRetention', 's3:ListBucket'] as const;

/** The bucket policy statement every evidence bucket carries: no request without TLS, for anyone. */
export function tlsOnlyStatement(bucketArn: unknown, objectsArn: unknown): Record<string, unknown> {
  return { Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [bucketArn, objectsArn], Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
}

export interface EvidenceBucketTemplateOptions {
  /** Default of `RetentionMode` (GOVERNANCE unless given). */
  readonly retentionMode?: RetentionMode;
  /** Default of `RetentionDays` (365 unless given). */
  readonly retentionDays?: number;
  /** Default of `CollectionOrganizationId` (none unless given: no member account may write). */
  readonly collectionOrganizationId?: string;
}

/** The evidence buckets' name prefix by default: a bucket is `<prefix>-<account>-<region>`. */
export const DEFAULT_BUCKET_NAME_PREFIX = 'riposte-evidence';
/** The forensic collection role of the member accounts by default (the member template's ForensicProfileName, ssm.collect-evidence's instanceProfile). */
export const DEFAULT_FORENSIC_ROLE_NAME = 'RiposteForensicCollection';

/**
 * What the member accounts' forensic collection role may do here: the SSM
 * agent on an instance under collection uploads Run Command's output
 * (s3:PutObject) and reads the bucket's default encryption first
 * (s3:GetEncryptionConfiguration: Systems Manager User Guide, "Create a
 * custom S3 bucket policy for an instance profile"); across accounts the
 * bucket policy must allow both as the role's own policy does.
 *
 * Any principal of the organization (`aws:PrincipalOrgID`, which also keeps
 * the statement from being public under Block Public Access) whose ARN is
 * that role in any account (`aws:PrincipalArn`: an instance's session
 * carries its role's ARN there), and only under `evidence/` followed by the
 * caller's own account: `${aws:PrincipalAccount}` in the Resource is a
 * policy variable (IAM User Guide, "IAM policy elements: Variables and
 * tags": global condition keys can be used as variables), so one account's
 * instances cannot write under another's prefix. Fn::Sub's `${!…}` keeps the
 * variable literal.
 */
function collectionStatements(bucketArn: unknown): Record<string, unknown>[] {
  const principal = {
    StringEquals: { 'aws:PrincipalOrgID': { Ref: 'CollectionOrganizationId' } },
    ArnLike: { 'aws:PrincipalArn': { 'Fn::Sub': 'arn:${AWS::Partition}:iam::*:role/${ForensicRoleName}' } },
  };
  const ifCollection = (statement: Record<string, unknown>) => ({ 'Fn::If': ['CollectionWrites', statement, { Ref: 'AWS::NoValue' }] });
  return [
    ifCollection({
      Sid: 'ForensicCollectionWritesOwnPrefix',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: { 'Fn::Sub': '${EvidenceBucket.Arn}/evidence/${!aws:PrincipalAccount}/*' },
      Condition: principal,
    }),
    ifCollection({ Sid: 'ForensicCollectionReadsEncryption', Effect: 'Allow', Principal: '*', Action: 's3:GetEncryptionConfiguration', Resource: bucketArn, Condition: principal }),
  ];
}

/**
 * A CloudFormation template for one Region's evidence bucket, deployed from
 * the same template in every Region where Riposte may act (StackSets, in the
 * hosting account), so that evidence about an instance stays in its Region:
 *
 * - Object Lock on, with a default retention (GOVERNANCE or COMPLIANCE, a
 *   parameter: a COMPLIANCE retention cannot be shortened by anyone, the
 *   root user included, until it ends), and versioning (Object Lock needs it);
 * - SSE-S3 encryption by default (a forensics account reads the evidence
 *   with no grant on a key), public access blocked, objects owned by the
 *   bucket owner (ACLs off);
 * - a policy that refuses any request not over TLS, lets Riposte's functions
 *   (`WriterRoleArns`, the hosting account's function roles) write objects,
 *   place legal holds and read back what they wrote, and, when
 *   `ForensicsAccountId` is given, lets that account read;
 * - when `CollectionOrganizationId` is given, lets the forensic collection
 *   role of the organization's member accounts (`ForensicRoleName`, which
 *   the member template creates and `ssm.collect-evidence` attaches as an
 *   instance profile) write Run Command's output under
 *   `evidence/<its own account>/` and nowhere else (see collectionStatements).
 *
 * The bucket is retained when its stack is deleted: evidence outlives it.
 */
export function evidenceBucketTemplate(options: EvidenceBucketTemplateOptions = {}): Record<string, unknown> {
  const bucketArn = { 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] };
  const objectsArn = { 'Fn::Sub': '${EvidenceBucket.Arn}/*' };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: "Riposte evidence bucket for one Region: Object Lock with a default retention, versioned, encrypted, private, TLS only; written by Riposte's functions.",
    Parameters: {
      BucketNamePrefix: {
        Type: 'String',
        Default: DEFAULT_BUCKET_NAME_PREFIX,
        AllowedPattern: '^[a-z0-9][a-z0-9-]{1,20}$',
        Description: 'The bucket is named <prefix>-<account id>-<region>',
      },
      RetentionMode: {
        Type: 'String',
        AllowedValues: [RetentionMode.Governance, RetentionMode.Compliance],
        Default: options.retentionMode ?? RetentionMode.Governance,
        Description: 'Object Lock default retention mode: GOVERNANCE (users with s3:BypassGovernanceRetention may shorten it) or COMPLIANCE (no one can until it ends)',
      },
      RetentionDays: { Type: 'Number', MinValue: 1, MaxValue: 36500, Default: options.retentionDays ?? 365, Description: 'Days each evidence object is locked from its creation' },
      WriterRoleArns: {
        Type: 'CommaDelimitedList',
        Description: "The ARNs of Riposte's function roles in the hosting account (the stack's outputs): they write evidence and legal holds here",
      },
      ForensicsAccountId: { Type: 'String', Default: '', AllowedPattern: '^(\\d{12})?$', Description: 'An account allowed to read the evidence (empty: none)' },
      CollectionOrganizationId: {
        Type: 'String',
        Default: options.collectionOrganizationId ?? '',
        AllowedPattern: '^(o-[a-z0-9]{10,32})?$',
        Description: "The organization whose member accounts' forensic collection role may write Run Command output under evidence/<its account>/ (empty: none)",
      },
      ForensicRoleName: {
        Type: 'String',
        Default: DEFAULT_FORENSIC_ROLE_NAME,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
        Description: "The member accounts' forensic collection role (the member template's ForensicProfileName)",
      },
    },
    Conditions: {
      ForensicsRead: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ForensicsAccountId' }, ''] }] },
      CollectionWrites: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'CollectionOrganizationId' }, ''] }] },
    },
    Resources: {
      EvidenceBucket: {
        Type: 'AWS::S3::Bucket',
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          BucketName: { 'Fn::Sub': '${BucketNamePrefix}-${AWS::AccountId}-${AWS::Region}' },
          ObjectLockEnabled: true,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: { Ref: 'RetentionMode' }, Days: { Ref: 'RetentionDays' } } },
          },
          VersioningConfiguration: { Status: 'Enabled' },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }] },
          Tags: [{ Key: 'riposte:managed', Value: 'true' }],
        },
      },
      EvidenceBucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: { Ref: 'EvidenceBucket' },
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              tlsOnlyStatement(bucketArn, objectsArn),
              {
                Sid: 'RiposteWrites',
                Effect: 'Allow',
                Principal: { AWS: { Ref: 'WriterRoleArns' } },
                Action: ['s3:GetObject', 's3:PutObject', 's3:PutObjectLegalHold'],
                Resource: objectsArn,
              },
              // ListBucket makes a missing key answer 404 rather than 403 (src/actions/evidence-store.ts).
              { Sid: 'RiposteLists', Effect: 'Allow', Principal: { AWS: { Ref: 'WriterRoleArns' } }, Action: 's3:ListBucket', Resource: bucketArn },
              {
                'Fn::If': [
                  'ForensicsRead',
                  {
                    Sid: 'ForensicsRead',
                    Effect: 'Allow',
                    Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ForensicsAccountId}:root' } },
                    Action: [...FORENSICS_READ_ACTIONS],
                    Resource: [bucketArn, objectsArn],
                  },
                  { Ref: 'AWS::NoValue' },
                ],
              },
              ...collectionStatements(bucketArn),
            ],
          },
        },
      },
    },
    Outputs: {
      BucketName: { Value: { Ref: 'EvidenceBucket' } },
      BucketRegion: { Value: { Ref: 'AWS::Region' } },
    },
  };
}
