import { describe, expect, it } from 'vitest';

import { ActionRegistry, builtInActions, memberPermissions, memberRoleTemplate } from '../../src/actions/index.js';
import { detachInstanceProfile } from '../../src/actions/ec2-detach-instance-profile.js';
import { enableTerminationProtection } from '../../src/actions/ec2-enable-termination-protection.js';
import { DEFAULT_EVIDENCE_BUCKET_PREFIX, SSM_AGENT_ACTIONS } from '../../src/actions/member-role-template.js';
import { collectEvidence, DEFAULT_FORENSIC_PROFILE } from '../../src/actions/ssm-collect-evidence.js';
import { DEFAULT_BUCKET_NAME_PREFIX, DEFAULT_FORENSIC_ROLE_NAME } from '../../src/evidence/bucket-template.js';

interface Statement {
  readonly Sid: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}
interface Resource {
  readonly Type: string;
  readonly Condition?: string;
  readonly Properties: Record<string, unknown>;
}
interface Template {
  readonly Parameters: Record<string, { Default?: string; AllowedPattern?: string }>;
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, { Condition?: string; Value: unknown }>;
}

const templateOf = (registry: ActionRegistry): Template => memberRoleTemplate(registry) as unknown as Template;
const roleStatementsOf = (template: Template): Statement[] =>
  (template.Resources.RiposteMemberRole?.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>)[0]?.PolicyDocument.Statement ?? [];
const actions = (entry: Statement): string[] => [entry.Action].flat();
const passRoleStatements = (template: Template): Statement[] => roleStatementsOf(template).filter((entry) => actions(entry).includes('iam:PassRole'));

const template = templateOf(builtInActions());
const role = template.Resources.ForensicCollectionRole as Resource;
const profile = template.Resources.ForensicCollectionProfile as Resource;
const policies = role.Properties.Policies as Array<{ PolicyName: string; PolicyDocument: { Statement: Statement[] } }>;
const statements = policies[0]?.PolicyDocument.Statement ?? [];
const statement = (sid: string): Statement => statements.find((candidate) => candidate.Sid === sid) as Statement;

describe('the member template’s forensic instance profile (ssm.collect-evidence)', () => {
  it('is a role trusted by ec2.amazonaws.com only, and a profile of the same name holding only it, both created in RoleRegion’s stack only', () => {
    expect(role).toMatchObject({ Type: 'AWS::IAM::Role', Condition: 'CreateRole', Properties: { RoleName: { Ref: 'ForensicProfileName' } } });
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(profile).toEqual({
      Type: 'AWS::IAM::InstanceProfile',
      Condition: 'CreateRole',
      Properties: { InstanceProfileName: { Ref: 'ForensicProfileName' }, Roles: [{ Ref: 'ForensicCollectionRole' }] },
    });
    expect(template.Outputs.ForensicInstanceProfileArn).toEqual({ Condition: 'CreateRole', Value: { 'Fn::GetAtt': ['ForensicCollectionProfile', 'Arn'] } });
    // No managed policy: only the inline one below.
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(policies).toHaveLength(1);
  });

  it('is named, by default, what the step attaches by default, and looks for the buckets the bucket template names by default', () => {
    expect(template.Parameters.ForensicProfileName).toMatchObject({ Default: DEFAULT_FORENSIC_PROFILE, AllowedPattern: '^[\\w+=,.@-]{1,64}$' });
    expect(collectEvidence.params.parse({}).instanceProfile).toBe(template.Parameters.ForensicProfileName?.Default);
    expect(DEFAULT_FORENSIC_ROLE_NAME).toBe(DEFAULT_FORENSIC_PROFILE);
    expect(template.Parameters.EvidenceBucketNamePrefix).toMatchObject({ Default: DEFAULT_BUCKET_NAME_PREFIX });
    expect(DEFAULT_EVIDENCE_BUCKET_PREFIX).toBe(DEFAULT_BUCKET_NAME_PREFIX);
    const custom = memberRoleTemplate(builtInActions(), { evidenceBucketNamePrefix: 'acme-evidence' }) as unknown as Template;
    expect(custom.Parameters.EvidenceBucketNamePrefix?.Default).toBe('acme-evidence');
  });

  it('allows the SSM agent’s messaging and nothing else of Systems Manager (SSM User Guide, "Reference: ec2messages, ssmmessages, and other API operations")', () => {
    expect(statement('SsmAgentMessaging')).toEqual({
      Sid: 'SsmAgentMessaging',
      Effect: 'Allow',
      Action: [
        'ssm:UpdateInstanceInformation',
        'ec2messages:AcknowledgeMessage',
        'ec2messages:DeleteMessage',
        'ec2messages:FailMessage',
        'ec2messages:GetEndpoint',
        'ec2messages:GetMessages',
        'ec2messages:SendReply',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
      Resource: '*',
    });
    expect([...SSM_AGENT_ACTIONS]).toEqual(actions(statement('SsmAgentMessaging')));
  });

  it('writes only under evidence/<this account>/ of the hosting account’s evidence buckets, and reads only their encryption', () => {
    const hostingOwned = { StringEquals: { 'aws:ResourceAccount': { Ref: 'RiposteAccountId' } } };
    expect(statement('RunCommandOutputToEvidence')).toEqual({
      Sid: 'RunCommandOutputToEvidence',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${EvidenceBucketNamePrefix}-${RiposteAccountId}-*/evidence/${AWS::AccountId}/*' },
      Condition: hostingOwned,
    });
    expect(statement('EvidenceBucketEncryption')).toEqual({
      Sid: 'EvidenceBucketEncryption',
      Effect: 'Allow',
      Action: 's3:GetEncryptionConfiguration',
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${EvidenceBucketNamePrefix}-${RiposteAccountId}-*' },
      Condition: hostingOwned,
    });
    // Exactly these three statements, and every action named (no wildcard action, no read, no delete).
    expect(statements.map((entry) => entry.Sid)).toEqual(['SsmAgentMessaging', 'RunCommandOutputToEvidence', 'EvidenceBucketEncryption']);
    expect(statements.flatMap(actions).some((action) => action.includes('*'))).toBe(false);
    expect(statements.every((entry) => entry.Effect === 'Allow')).toBe(true);
  });

  it('lets the member role pass the forensic role, and only it, to EC2 only', () => {
    const onlyCollection = templateOf(new ActionRegistry([collectEvidence]));
    expect(passRoleStatements(onlyCollection)).toEqual([
      {
        Sid: 'PASSFORENSICROLETOEC2',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ForensicProfileName}' },
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
    ]);
  });

  it('keeps ec2.detach-instance-profile’s rollback able to pass the instance’s own role, in its own statement, to EC2 only; no PassRole is left on Resource *', () => {
    const onlyDetach = templateOf(new ActionRegistry([detachInstanceProfile]));
    expect(passRoleStatements(onlyDetach)).toEqual([
      {
        Sid: 'PASSINSTANCEROLESTOEC2',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*' },
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
    ]);
    expect(onlyDetach.Resources.ForensicCollectionRole).toBeUndefined();

    // Both in the registry: one statement per purpose.
    expect(passRoleStatements(template).map((entry) => entry.Sid)).toEqual(['PASSINSTANCEROLESTOEC2', 'PASSFORENSICROLETOEC2']);
    expect(passRoleStatements(template).every((entry) => entry.Resource !== '*')).toBe(true);
    // Still exactly the declared permissions, iam:PassRole now in two statements.
    expect([...new Set(roleStatementsOf(template).flatMap(actions))].sort()).toEqual(memberPermissions(builtInActions()));
  });

  it('is left out, with its parameters and output, where no action collects from inside instances', () => {
    const narrow = templateOf(new ActionRegistry([enableTerminationProtection]));
    expect(narrow.Resources.ForensicCollectionRole).toBeUndefined();
    expect(narrow.Resources.ForensicCollectionProfile).toBeUndefined();
    expect(narrow.Parameters.ForensicProfileName).toBeUndefined();
    expect(narrow.Parameters.EvidenceBucketNamePrefix).toBeUndefined();
    expect(narrow.Outputs.ForensicInstanceProfileArn).toBeUndefined();
    expect(passRoleStatements(narrow)).toEqual([]);
  });
});
