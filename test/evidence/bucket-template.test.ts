import { describe, expect, it } from 'vitest';

import { DEFAULT_FORENSIC_ROLE_NAME } from '../../src/evidence/bucket-template.js';
import { evidenceBucketTemplate } from '../../src/evidence/index.js';

type Json = Record<string, unknown>;
interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Principal: unknown;
  Condition?: unknown;
}

describe('evidenceBucketTemplate', () => {
  const template = evidenceBucketTemplate() as { Parameters: Record<string, Json>; Resources: Record<string, { Type: string; DeletionPolicy?: string; Properties: Json }> };
  const bucket = template.Resources.EvidenceBucket;
  const statements = (template.Resources.EvidenceBucketPolicy?.Properties.PolicyDocument as { Statement: Array<Statement | Json> }).Statement;

  it('makes one bucket a Region, named by account and Region, kept when the stack goes, with Object Lock, its default retention a parameter (GOVERNANCE, 365 days by default)', () => {
    expect(bucket).toMatchObject({ Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' });
    expect(bucket?.Properties).toMatchObject({
      BucketName: { 'Fn::Sub': '${BucketNamePrefix}-${AWS::AccountId}-${AWS::Region}' },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: { Ref: 'RetentionMode' }, Days: { Ref: 'RetentionDays' } } } },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    expect(template.Parameters.RetentionMode).toMatchObject({ AllowedValues: ['GOVERNANCE', 'COMPLIANCE'], Default: 'GOVERNANCE' });
    expect(template.Parameters.RetentionDays).toMatchObject({ Default: 365 });
    const compliance = evidenceBucketTemplate({ retentionMode: 'COMPLIANCE', retentionDays: 2557 }) as { Parameters: Record<string, Json> };
    expect(compliance.Parameters.RetentionMode?.Default).toBe('COMPLIANCE');
    expect(compliance.Parameters.RetentionDays?.Default).toBe(2557);
  });

  it("refuses every request without TLS, lets the hosting account's function roles write, hold and read back, and the forensics account read only when named", () => {
    expect(statements[0]).toMatchObject({ Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(statements[1]).toMatchObject({ Sid: 'RiposteWrites', Effect: 'Allow', Principal: { AWS: { Ref: 'WriterRoleArns' } }, Action: ['s3:GetObject', 's3:PutObject', 's3:PutObjectLegalHold'] });
    expect(statements[2]).toMatchObject({ Sid: 'RiposteLists', Principal: { AWS: { Ref: 'WriterRoleArns' } }, Action: 's3:ListBucket' });
    const forensics = (statements[3] as { 'Fn::If': [string, Statement, unknown] })['Fn::If'];
    expect(forensics[0]).toBe('ForensicsRead');
    expect(forensics[1].Action).not.toContain('s3:PutObject');
    expect(forensics[2]).toEqual({ Ref: 'AWS::NoValue' });
    // Nothing but the forensics read and the writers' grants allows anything.
    expect(JSON.stringify(statements)).not.toMatch(/s3:(Delete|PutBucket|BypassGovernance|PutObjectRetention)/);
  });

  it("lets the organization's forensic collection role, in any member account, write only under evidence/<its own account>/ and read the bucket's encryption; objects stay the bucket owner's", () => {
    const collecting = evidenceBucketTemplate({ collectionOrganizationId: 'o-abcdefghij' }) as typeof template;
    const policy = (collecting.Resources.EvidenceBucketPolicy?.Properties.PolicyDocument as { Statement: Array<Statement | Json> }).Statement;
    const conditional = policy.slice(4).map((entry) => (entry as { 'Fn::If': [string, Statement & { Resource: unknown }, unknown] })['Fn::If']);
    expect(conditional.map(([condition, , otherwise]) => [condition, otherwise])).toEqual([
      ['CollectionWrites', { Ref: 'AWS::NoValue' }],
      ['CollectionWrites', { Ref: 'AWS::NoValue' }],
    ]);
    const principal = {
      StringEquals: { 'aws:PrincipalOrgID': { Ref: 'CollectionOrganizationId' } },
      ArnLike: { 'aws:PrincipalArn': { 'Fn::Sub': 'arn:${AWS::Partition}:iam::*:role/${ForensicRoleName}' } },
    };
    expect(conditional[0]?.[1]).toEqual({
      Sid: 'ForensicCollectionWritesOwnPrefix',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:PutObject',
      // ${!…} is Fn::Sub's escape: the policy holds the variable ${aws:PrincipalAccount}, resolved per request.
      Resource: { 'Fn::Sub': '${EvidenceBucket.Arn}/evidence/${!aws:PrincipalAccount}/*' },
      Condition: principal,
    });
    expect(conditional[1]?.[1]).toEqual({
      Sid: 'ForensicCollectionReadsEncryption',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetEncryptionConfiguration',
      Resource: { 'Fn::GetAtt': ['EvidenceBucket', 'Arn'] },
      Condition: principal,
    });
    expect(collecting.Parameters.CollectionOrganizationId).toMatchObject({ Default: 'o-abcdefghij', AllowedPattern: '^(o-[a-z0-9]{10,32})?$' });
    expect(collecting.Parameters.ForensicRoleName).toMatchObject({ Default: DEFAULT_FORENSIC_ROLE_NAME });
    expect((collecting as unknown as { Conditions: Json }).Conditions.CollectionWrites).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'CollectionOrganizationId' }, ''] }] });
    // Without an organization given, no member account may write.
    expect(template.Parameters.CollectionOrganizationId?.Default).toBe('');
    expect(bucket?.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });
});
