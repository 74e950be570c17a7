import { TARGET_READ_PERMISSIONS } from './resource-tags.js';
import type { ActionRegistry } from './registry.js';

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
 */
export function memberRoleTemplate(registry: ActionRegistry, options: MemberRoleTemplateOptions = {}): Record<string, unknown> {
  const byService = new Map<string, string[]>();
  for (const permission of memberPermissions(registry)) {
    const service = permission.split(':')[0] as string;
    byService.set(service, [...(byService.get(service) ?? []), permission]);
  }
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
    },
    Conditions: { CreateRole: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RoleRegion' }] } },
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
                Statement: [...byService.entries()].map(([service, actions]) => ({
                  Sid: service.replace(/[^A-Za-z0-9]/g, '').toUpperCase(),
                  Effect: 'Allow',
                  Action: actions,
                  Resource: '*',
                })),
              },
            },
          ],
          Tags: [{ Key: 'riposte:managed', Value: 'true' }],
        },
      },
    },
    Outputs: {
      RoleArn: { Condition: 'CreateRole', Value: { 'Fn::GetAtt': ['RiposteMemberRole', 'Arn'] } },
    },
  };
}
