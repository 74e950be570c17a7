import { describe, expect, it } from 'vitest';

import { ActionRegistry, builtInActions, memberPermissions, memberRoleTemplate } from '../../src/actions/index.js';
import { FORENSICS_KEY_ALIAS, snapshotVolumes } from '../../src/actions/ec2-snapshot-volumes.js';
import { enableTerminationProtection } from '../../src/actions/ec2-enable-termination-protection.js';
import { FORENSICS_ACCOUNT_KEY_ACTIONS, MEMBER_ROLE_KEY_ACTIONS } from '../../src/actions/member-role-template.js';

interface Statement {
  readonly Sid: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: string;
  readonly Condition?: Record<string, Record<string, unknown>>;
}
interface Template {
  readonly Parameters: Record<string, { Default?: string; AllowedPattern?: string }>;
  readonly Conditions: Record<string, unknown>;
  readonly Resources: Record<string, { Type: string; Condition?: string; DeletionPolicy?: string; Properties: Record<string, unknown> }>;
  readonly Outputs: Record<string, { Condition?: string; Value: unknown }>;
}

const template = memberRoleTemplate(builtInActions(), { forensicsAccountId: '444455556666' }) as unknown as Template;
const key = template.Resources.ForensicsKey;
const keyPolicy = (key?.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
const statement = (sid: string): Statement => keyPolicy.find((candidate) => candidate.Sid === sid) as Statement;
const roleStatements = (template.Resources.RiposteMemberRole?.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>)[0]?.PolicyDocument.Statement ?? [];
const actions = (entry: Statement): string[] => [entry.Action].flat();

describe('the member-account template’s forensics key', () => {
  it('is created in every region’s stack when ForensicsAccountId is given (by default the one asked for), retained with the stack, under the alias the step uses by default', () => {
    expect(template.Parameters.ForensicsAccountId).toMatchObject({ Default: '444455556666', AllowedPattern: '^(\\d{12})?$' });
    expect(template.Conditions.CreateForensicsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ForensicsAccountId' }, ''] }] });
    expect(key).toMatchObject({
      Type: 'AWS::KMS::Key',
      Condition: 'CreateForensicsKey',
      DeletionPolicy: 'Retain',
      Properties: { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', EnableKeyRotation: true },
    });
    expect(template.Resources.ForensicsKeyAlias).toEqual({
      Type: 'AWS::KMS::Alias',
      Condition: 'CreateForensicsKey',
      Properties: { AliasName: FORENSICS_KEY_ALIAS, TargetKeyId: { Ref: 'ForensicsKey' } },
    });
    expect(snapshotVolumes.params.parse({}).forensicsKmsKey).toBe(FORENSICS_KEY_ALIAS);
    expect(template.Outputs.ForensicsKeyArn).toMatchObject({ Condition: 'CreateForensicsKey', Value: { 'Fn::GetAtt': ['ForensicsKey', 'Arn'] } });
    // Without a forensics account given, the parameter is empty and no key is made.
    expect((memberRoleTemplate(builtInActions()) as unknown as Template).Parameters.ForensicsAccountId?.Default).toBe('');
  });

  it('lets the forensics account use it as the EBS User Guide asks for a shared snapshot’s key, grants only for AWS resources', () => {
    // "Share a KMS key": kms:DescribeKey, kms:CreateGrant, kms:GenerateDataKey, kms:GenerateDataKeyWithoutPlaintext,
    // kms:ReEncrypt, kms:Decrypt; "use the kms:GrantIsForAWSResource condition key" for CreateGrant.
    const forensicsRoot = { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ForensicsAccountId}:root' } };
    expect(statement('ForensicsAccountUsesTheKey')).toMatchObject({ Effect: 'Allow', Principal: forensicsRoot });
    expect(actions(statement('ForensicsAccountUsesTheKey')).sort()).toEqual(
      ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'].sort(),
    );
    expect(statement('ForensicsAccountGrantsForEbs')).toMatchObject({ Principal: forensicsRoot, Action: 'kms:CreateGrant', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } });
    expect([...FORENSICS_ACCOUNT_KEY_ACTIONS]).toEqual(actions(statement('ForensicsAccountUsesTheKey')));
  });

  it('lets only the member role (by ARN, which need not exist yet in this region) copy under it, with what the step declares; the account’s administrators manage it but cannot use it', () => {
    const role = { ArnEquals: { 'aws:PrincipalArn': { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}' } } };
    expect(statement('RiposteCopiesUnderTheKey')).toMatchObject({ Condition: role });
    expect(statement('RiposteGrantsForEbs')).toMatchObject({ Action: 'kms:CreateGrant', Condition: { ...role, Bool: { 'kms:GrantIsForAWSResource': 'true' } } });
    for (const permission of [...MEMBER_ROLE_KEY_ACTIONS, 'kms:CreateGrant']) expect(snapshotVolumes.permissions.member).toContain(permission);
    const administration = actions(statement('KeyAdministration'));
    for (const use of ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:GenerateDataKey'])
      expect(administration.some((action) => new RegExp(`^${action.replace('*', '.*')}$`).test(use))).toBe(false);
    expect(keyPolicy.map((entry) => entry.Sid)).toEqual(['KeyAdministration', 'RiposteCopiesUnderTheKey', 'RiposteGrantsForEbs', 'ForensicsAccountUsesTheKey', 'ForensicsAccountGrantsForEbs']);
  });

  it('allows the role KMS only through EC2, grants only for AWS resources, and still exactly the declared permissions', () => {
    const kms = roleStatements.filter((entry) => actions(entry).some((action) => action.startsWith('kms:')));
    expect(kms.find((entry) => actions(entry).includes('kms:CreateGrant'))?.Condition).toEqual({
      StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' },
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
    });
    expect(kms.find((entry) => actions(entry).includes('kms:Decrypt'))?.Condition).toEqual({ StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } });
    expect(new Set(roleStatements.map((entry) => entry.Sid)).size).toBe(roleStatements.length);
    // iam:PassRole is granted in one statement per purpose (test/actions/member-role-forensic-collection.test.ts).
    expect([...new Set(roleStatements.flatMap(actions))].sort()).toEqual(memberPermissions(builtInActions()));
  });

  it('is left out of a role whose actions never copy a snapshot', () => {
    const narrow = memberRoleTemplate(new ActionRegistry([enableTerminationProtection]), { forensicsAccountId: '444455556666' }) as unknown as Template;
    expect(narrow.Resources.ForensicsKey).toBeUndefined();
    expect(narrow.Parameters.ForensicsAccountId).toBeUndefined();
    expect(narrow.Outputs.ForensicsKeyArn).toBeUndefined();
    expect(Object.keys(narrow.Conditions)).toEqual(['CreateRole']);
  });
});
