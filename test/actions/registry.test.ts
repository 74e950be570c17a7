import { describe, expect, it } from 'vitest';

import { BUILT_IN_ACTIONS, builtInActions, memberPermissions, memberRoleTemplate, UnknownActionError } from '../../src/actions/index.js';

const registry = builtInActions();

describe('the action registry', () => {
  it('registers every action the design lists, by name', () => {
    expect(registry.names()).toEqual([
      'autoscaling.standby-instance',
      'ec2.capture-metadata',
      'ec2.detach-instance-profile',
      'ec2.enable-termination-protection',
      'ec2.isolate',
      'ec2.restrict-default-security-group',
      'ec2.revoke-unrestricted-ingress',
      'ec2.snapshot-volumes',
      'elb.deregister-instance',
      'finding.update',
      'iam.revoke-role-sessions',
      'iam.set-password-policy',
      'notify',
      'ssm.collect-evidence',
      'ssm.run-command',
    ]);
  });

  it.each(BUILT_IN_ACTIONS.map((action) => [action.name, action] as const))('%s declares IAM actions and a strict parameter schema', (_, action) => {
    expect([...action.permissions.member, ...action.permissions.hosting].length).toBeGreaterThan(0);
    for (const permission of [...action.permissions.member, ...action.permissions.hosting]) expect(permission).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
    expect(action.params.safeParse({ surelyNotAParameter: true }).success).toBe(false);
    // An action that can be rolled back changes something; the one exception is evidence capture, whose rollback takes back only its share with the forensics account (the snapshots stay).
    if (action.behaviour.rollback !== undefined && action.name !== 'ec2.snapshot-volumes') expect(action.changesResources).toBe(true);
  });

  it('names the nearest action when asked for an unknown one', () => {
    expect(() => registry.get('ec2.isolat')).toThrow(UnknownActionError);
    expect(() => registry.get('ec2.isolat')).toThrow('did you mean "ec2.isolate"?');
  });
});

describe('the member-account role template', () => {
  const template = memberRoleTemplate(registry) as {
    Resources: {
      RiposteMemberRole: {
        Properties: { AssumeRolePolicyDocument: { Statement: Array<Record<string, unknown>> }; Policies: Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: string }> } }> };
      };
    };
  };
  const role = template.Resources.RiposteMemberRole.Properties;

  it('allows exactly the union of what the actions declare, and no wildcard action', () => {
    const granted = role.Policies.flatMap((policy) => policy.PolicyDocument.Statement.flatMap((statement) => statement.Action)).sort();

    // An action may be granted in several statements, each scoped to one purpose (iam:PassRole: the forensic role, or the instance's own).
    expect([...new Set(granted)]).toEqual(memberPermissions(registry));
    expect(granted.some((action) => action.includes('*'))).toBe(false);
  });

  it('is assumable only by the Riposte account, with the external ID', () => {
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${RiposteAccountId}:root' } },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
      },
    ]);
  });
});
