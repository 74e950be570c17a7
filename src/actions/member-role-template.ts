import { FORENSICS_KEY_ALIAS } from './ec2-snapshot-volumes.js';
import { TARGET_READ_PERMISSIONS } from './resource-tags.js';
import type { ActionRegistry } from './registry.js';
import { DEFAULT_FORENSIC_PROFILE } from './ssm-collect-evidence.js';

/**
 * The member-account permissions Riposte needs there, sorted, without
 * duplicates: every action's in the registry, and the pipeline's live reads
 * of each step's target (tags that exemptions are checked against, an
 * instance's profile and role).
 */
export function memberPermissions(registry: ActionRegistry): string[] {
  return [...new Set([...registry.all().flatMap((action) => action.permissions.member), ...TARGET_READ_PERMISSIONS.member])].sort();
}

export interface MemberRoleTemplateOptions {
  /** Default role name (a template parameter, so StackSets can override it). */
  readonly roleName?: string;
  /** Default of `RoleRegion`, the one region the role is created from (otherwise the parameter must be given). */
  readonly roleRegion?: string;
  /** Default of `ForensicsAccountId`, the account the forensics key is opened to (otherwise none: no key). */
  readonly forensicsAccountId?: string;
  /** Default of `EvidenceBucketNamePrefix`, the prefix the evidence buckets of the hosting account are named with (`riposte-evidence`). */
  readonly evidenceBucketNamePrefix?: string;
}

type Condition = Record<string, Record<string, unknown>>;

// EBS uses KMS on the caller's behalf: only through EC2 (kms:ViaService), and grants only for an AWS resource
// (EBS User Guide, "Permissions for users": "use the kms:GrantIsForAWSResource condition key"). DescribeKey stays
// unconditioned: a read.
const VIA_EC2: Condition = { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } };
const PERMISSION_CONDITIONS: Readonly<Record<string, { readonly sid: string; readonly condition: Condition }>> = {
  'kms:CreateGrant': { sid: 'KMSGRANTSFOREBS', condition: { ...VIA_EC2, Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
  'kms:Decrypt': { sid: 'KMSTHROUGHEBS', condition: VIA_EC2 },
  'kms:GenerateDataKeyWithoutPlaintext': { sid: 'KMSTHROUGHEBS', condition: VIA_EC2 },
  'kms:ReEncryptFrom': { sid: 'KMSTHROUGHEBS', condition: VIA_EC2 },
  'kms:ReEncryptTo': { sid: 'KMSTHROUGHEBS', condition: VIA_EC2 },
};

/** What the forensics account may do with the forensics key to use a shared copy (EBS User Guide, "Share a KMS key"). */
export const FORENSICS_ACCOUNT_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'] as const;
/** What the member role may do with the forensics key to copy snapshots under it (what the action declares, and no more). */
export const MEMBER_ROLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'] as const;
/** The key administrators' statement of KMS's default key policy for the console (KMS Developer Guide, "Default key policy"). */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];
const GRANTS_FOR_AWS_RESOURCES: Condition = { Bool: { 'kms:GrantIsForAWSResource': 'true' } };

/**
 * The forensics key: a customer managed key (symmetric, rotated) in each
 * region of the member account, under `alias/riposte-forensics`, that
 * `ec2.snapshot-volumes` copies encrypted snapshots under before sharing
 * them. Its policy: the account's administrators manage it (not use it);
 * the member role (named by ARN in a condition: the role exists only in
 * `RoleRegion`'s stack, and a key policy naming a principal that does not
 * exist yet is refused) copies under it; the forensics account decrypts,
 * re-encrypts and describes it, and creates grants for AWS resources (what
 * creating a volume from, or copying, the shared snapshot takes). Retained
 * on stack deletion: the copies it protects stay readable.
 */
function forensicsKeyResources(): Record<string, unknown> {
  const accountRoot = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' };
  const forensicsRoot = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ForensicsAccountId}:root' };
  const memberRole = { ArnEquals: { 'aws:PrincipalArn': { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}' } } };
  return {
    ForensicsKey: {
      Type: 'AWS::KMS::Key',
      Condition: 'CreateForensicsKey',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: 'Riposte forensics key: encrypted evidence snapshots are copied under it and shared with the forensics account',
        Enabled: true,
        EnableKeyRotation: true,
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'KeyAdministration', Effect: 'Allow', Principal: { AWS: accountRoot }, Action: KEY_ADMIN_ACTIONS, Resource: '*' },
            { Sid: 'RiposteCopiesUnderTheKey', Effect: 'Allow', Principal: { AWS: accountRoot }, Action: [...MEMBER_ROLE_KEY_ACTIONS], Resource: '*', Condition: memberRole },
            {
              Sid: 'RiposteGrantsForEbs',
              Effect: 'Allow',
              Principal: { AWS: accountRoot },
              Action: 'kms:CreateGrant',
              Resource: '*',
              Condition: { ...memberRole, ...GRANTS_FOR_AWS_RESOURCES },
            },
            { Sid: 'ForensicsAccountUsesTheKey', Effect: 'Allow', Principal: { AWS: forensicsRoot }, Action: [...FORENSICS_ACCOUNT_KEY_ACTIONS], Resource: '*' },
            { Sid: 'ForensicsAccountGrantsForEbs', Effect: 'Allow', Principal: { AWS: forensicsRoot }, Action: 'kms:CreateGrant', Resource: '*', Condition: GRANTS_FOR_AWS_RESOURCES },
          ],
        },
        Tags: [{ Key: 'riposte:managed', Value: 'true' }],
      },
    },
    ForensicsKeyAlias: {
      Type: 'AWS::KMS::Alias',
      Condition: 'CreateForensicsKey',
      Properties: { AliasName: FORENSICS_KEY_ALIAS, TargetKeyId: { Ref: 'ForensicsKey' } },
    },
  };
}

/** The action that attaches the forensic instance profile, and the name its step uses by default. */
const COLLECTION_ACTION = 'ssm.collect-evidence';
/** The evidence buckets' name prefix by default (src/evidence/bucket-template.ts names a bucket `<prefix>-<account>-<region>`). */
export const DEFAULT_EVIDENCE_BUCKET_PREFIX = 'riposte-evidence';

/**
 * What the SSM agent needs to take Run Command's commands and answer them
 * (Systems Manager User Guide, "Reference: ec2messages, ssmmessages, and
 * other API operations": the ec2messages and ssmmessages operations, and
 * ssm:UpdateInstanceInformation by which the agent reports itself; they are
 * the messaging part of AmazonSSMManagedInstanceCore, without its
 * documents, parameters, inventory, patching and association reads).
 */
export const SSM_AGENT_ACTIONS = [
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
] as const;

/**
 * Who may pass which role (iam:PassRole), by the action that passes it.
 * IAM cannot tell which step of Riposte calls, so the role's effective
 * right is the union of the statements: where ec2.detach-instance-profile
 * is in the library, the role may pass any role of the account to EC2
 * (its rollback re-associates whatever profile the instance had, which no
 * template can name), and the forensic role's statement narrows nothing
 * more; without it, only the forensic role may be passed.
 */
const PASS_ROLE_PURPOSES: Readonly<Record<string, { readonly sid: string; readonly role: string }>> = {
  [COLLECTION_ACTION]: { sid: 'PASSFORENSICROLETOEC2', role: '${ForensicProfileName}' },
  'ec2.detach-instance-profile': { sid: 'PASSINSTANCEROLESTOEC2', role: '*' },
};
const PASSED_TO_EC2: Condition = { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } };

/**
 * The forensic instance profile `ssm.collect-evidence` attaches for its
 * collection, and its role: trusted only by EC2, allowed only what the SSM
 * agent needs to take the command and upload its output to the evidence
 * buckets of the hosting account. Following the Systems Manager User
 * Guide ("Configure instance permissions required for Systems Manager",
 * "Create a custom S3 bucket policy for an instance profile": s3:PutObject
 * on the output prefix, s3:GetEncryptionConfiguration on the bucket; the KMS
 * permissions there are for SSE-KMS buckets, and the evidence buckets use
 * SSE-S3), and "Reference: ec2messages, ssmmessages, and other API
 * operations" for the agent's messaging. Its writes are confined to
 * `evidence/<this account>/` of buckets named `<prefix>-<hosting
 * account>-<region>` that the hosting account owns (aws:ResourceAccount:
 * a bucket name anyone could register is not enough). Like the member
 * role, created only in `RoleRegion`'s stack (IAM is global).
 */
function forensicCollectionResources(): Record<string, unknown> {
  const buckets = 'arn:${AWS::Partition}:s3:::${EvidenceBucketNamePrefix}-${RiposteAccountId}-*';
  const hostingOwned: Condition = { StringEquals: { 'aws:ResourceAccount': { Ref: 'RiposteAccountId' } } };
  return {
    ForensicCollectionRole: {
      Type: 'AWS::IAM::Role',
      Condition: 'CreateRole',
      Properties: {
        RoleName: { Ref: 'ForensicProfileName' },
        Description: 'Attached by Riposte to an instance for a forensic collection only: the SSM agent takes the command and uploads its output to the evidence bucket',
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: 'riposte-forensic-collection',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Sid: 'SsmAgentMessaging', Effect: 'Allow', Action: [...SSM_AGENT_ACTIONS], Resource: '*' },
                {
                  Sid: 'RunCommandOutputToEvidence',
                  Effect: 'Allow',
                  Action: 's3:PutObject',
                  Resource: { 'Fn::Sub': `${buckets}/evidence/\${AWS::AccountId}/*` },
                  Condition: hostingOwned,
                },
                { Sid: 'EvidenceBucketEncryption', Effect: 'Allow', Action: 's3:GetEncryptionConfiguration', Resource: { 'Fn::Sub': buckets }, Condition: hostingOwned },
              ],
            },
          },
        ],
        Tags: [{ Key: 'riposte:managed', Value: 'true' }],
      },
    },
    ForensicCollectionProfile: {
      Type: 'AWS::IAM::InstanceProfile',
      Condition: 'CreateRole',
      Properties: { InstanceProfileName: { Ref: 'ForensicProfileName' }, Roles: [{ Ref: 'ForensicCollectionRole' }] },
    },
  };
}

/**
 * A CloudFormation template for the role Riposte assumes in each member
 * account, ready for StackSets: trusted only by the Riposte hosting account
 * with the external ID, and allowed exactly the IAM actions the registered
 * actions declare plus the guard's tag reads — nothing more.
 *
 * IAM is global: a stack set deployed to several regions of one account
 * would create the same role once per region, and every region after the
 * first would fail on the existing name. The role is created only in the
 * stack of `RoleRegion`; elsewhere the stack holds a no-op resource, so that
 * the same stack set may span every region the forwarders do.
 *
 * Where the actions may copy snapshots (`ec2.snapshot-volumes`), the
 * template also offers the forensics key: given `ForensicsAccountId`, every
 * region's stack creates a customer managed key under
 * `alias/riposte-forensics` that the role copies encrypted snapshots under
 * and the forensics account may use (see forensicsKeyResources). The role's
 * KMS permissions hold only through EC2, and its grants only for AWS
 * resources.
 *
 * Where the actions collect from inside instances (`ssm.collect-evidence`),
 * the template also creates the forensic instance profile the step
 * attaches (see forensicCollectionResources), beside the role and like it
 * in `RoleRegion` only; the role may pass that profile's role to EC2 and
 * no other (see PASS_ROLE_PURPOSES).
 */
export function memberRoleTemplate(registry: ActionRegistry, options: MemberRoleTemplateOptions = {}): Record<string, unknown> {
  // One statement per service, and one per condition that narrows some of its actions.
  const bySid = new Map<string, { actions: string[]; condition?: Condition }>();
  // iam:PassRole: one statement per purpose (PASS_ROLE_PURPOSES); an action with no known purpose keeps it unscoped.
  const passers = registry.all().filter((action) => action.permissions.member.includes('iam:PassRole'));
  const purposes = passers.flatMap((action) => {
    const purpose = PASS_ROLE_PURPOSES[action.name];
    return purpose === undefined ? [] : [purpose];
  });
  const unscopedPass = passers.some((action) => PASS_ROLE_PURPOSES[action.name] === undefined);
  for (const permission of memberPermissions(registry)) {
    if (permission === 'iam:PassRole' && !unscopedPass) continue;
    const narrowed = PERMISSION_CONDITIONS[permission];
    const sid = narrowed?.sid ?? (permission.split(':')[0] as string).replace(/[^A-Za-z0-9]/g, '').toUpperCase();
    const entry = bySid.get(sid) ?? { actions: [], ...(narrowed === undefined ? {} : { condition: narrowed.condition }) };
    entry.actions.push(permission);
    bySid.set(sid, entry);
  }
  // The forensics key, where the role may copy snapshots (a library whose playbooks never share snapshots has none).
  const withKey = memberPermissions(registry).includes('ec2:CopySnapshot');
  // The forensic instance profile, where the actions collect from inside instances.
  const withCollection = registry.all().some((action) => action.name === COLLECTION_ACTION);
  const passStatements = [...new Map(purposes.map((purpose) => [purpose.sid, purpose])).values()].map(({ sid, role }) => ({
    Sid: sid,
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${role}` },
    Condition: PASSED_TO_EC2,
  }));
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Riposte member-account role: the least privilege its remediation actions need, assumable only by the Riposte account with the external ID.',
    Parameters: {
      RiposteAccountId: { Type: 'String', AllowedPattern: '^\\d{12}$', Description: 'The AWS account Riposte runs in' },
      ExternalId: { Type: 'String', MinLength: 2, MaxLength: 1224, AllowedPattern: '^[\\w+=,.@:/-]+$', NoEcho: true, Description: 'Shared secret Riposte passes on AssumeRole' },
      RoleName: { Type: 'String', Default: options.roleName ?? 'RiposteMemberRole', AllowedPattern: '^[\\w+=,.@-]{1,64}$' },
      RoleRegion: {
        Type: 'String',
        AllowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
        Description: 'The one region whose stack creates the role (IAM is global: the stacks of other regions create nothing)',
        ...(options.roleRegion === undefined ? {} : { Default: options.roleRegion }),
      },
      ...(withKey
        ? {
            ForensicsAccountId: {
              Type: 'String',
              Default: options.forensicsAccountId ?? '',
              AllowedPattern: '^(\\d{12})?$',
              Description: `The forensics account encrypted evidence snapshots are shared with: when given, each region's stack creates the forensics key (${FORENSICS_KEY_ALIAS}) that it may use`,
            },
          }
        : {}),
      ...(withCollection
        ? {
            ForensicProfileName: {
              Type: 'String',
              Default: DEFAULT_FORENSIC_PROFILE,
              AllowedPattern: '^[\\w+=,.@-]{1,64}$',
              Description: `The forensic instance profile (and its role) ${COLLECTION_ACTION} attaches for a collection: its instanceProfile parameter, ${DEFAULT_FORENSIC_PROFILE} by default`,
            },
            EvidenceBucketNamePrefix: {
              Type: 'String',
              Default: options.evidenceBucketNamePrefix ?? DEFAULT_EVIDENCE_BUCKET_PREFIX,
              AllowedPattern: '^[a-z0-9][a-z0-9-]{1,20}$',
              Description: "The evidence buckets' BucketNamePrefix: the hosting account's buckets <prefix>-<RiposteAccountId>-<region> receive the collection's output",
            },
          }
        : {}),
    },
    Conditions: {
      CreateRole: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RoleRegion' }] },
      ...(withKey ? { CreateForensicsKey: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ForensicsAccountId' }, ''] }] } } : {}),
    },
    Resources: {
      // A stack needs one resource: in every region but RoleRegion the role is left out.
      Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
      RiposteMemberRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'CreateRole',
        Properties: {
          RoleName: { Ref: 'RoleName' },
          Description: 'Assumed by Riposte to remediate security findings in this account',
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${RiposteAccountId}:root' } },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'riposte-remediation',
              PolicyDocument: {
                Version: '2012-10-17',
                // One statement per service keeps the policy readable in the console.
                Statement: [
                  ...[...bySid.entries()].map(([sid, { actions, condition }]) => ({
                    Sid: sid,
                    Effect: 'Allow',
                    Action: actions,
                    Resource: '*',
                    ...(condition === undefined ? {} : { Condition: condition }),
                  })),
                  ...passStatements,
                ],
              },
            },
          ],
          Tags: [{ Key: 'riposte:managed', Value: 'true' }],
        },
      },
      ...(withKey ? forensicsKeyResources() : {}),
      ...(withCollection ? forensicCollectionResources() : {}),
    },
    Outputs: {
      RoleArn: { Condition: 'CreateRole', Value: { 'Fn::GetAtt': ['RiposteMemberRole', 'Arn'] } },
      ...(withKey ? { ForensicsKeyArn: { Condition: 'CreateForensicsKey', Description: `${FORENSICS_KEY_ALIAS} in this region`, Value: { 'Fn::GetAtt': ['ForensicsKey', 'Arn'] } } } : {}),
      ...(withCollection ? { ForensicInstanceProfileArn: { Condition: 'CreateRole', Value: { 'Fn::GetAtt': ['ForensicCollectionProfile', 'Arn'] } } } : {}),
    },
  };
}
