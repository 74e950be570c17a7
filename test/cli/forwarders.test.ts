import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { matchesAnyEventPattern } from '../support/event-pattern-matcher.js';
import { fixture } from '../support/fixtures.js';
import { riposte } from './run-cli.js';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Condition?: string;
  readonly Properties?: Json;
}

async function template(args: readonly string[] = []): Promise<{ Parameters: Record<string, Json>; Conditions: Json; Resources: Record<string, Resource> }> {
  const result = await riposte(['forwarders', ...args]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Awaited<ReturnType<typeof template>>;
}

const rulesOf = (resources: Record<string, Resource>): Resource[] => Object.values(resources).filter((resource) => resource.Type === 'AWS::Events::Rule');
const patternsOf = (resources: Record<string, Resource>): unknown[] => rulesOf(resources).map((rule) => rule.Properties?.EventPattern);

describe('riposte forwarders', () => {
  it('forwards the GuardDuty and Config events the library acts on (guardduty-ec2-backdoor.json, config-compliance-restricted-ssh.json, config-compliance-password-policy.json)', async () => {
    const { Resources } = await template(['--home-region', 'eu-west-1']);
    for (const name of ['guardduty-ec2-backdoor.json', 'config-compliance-restricted-ssh.json', 'config-compliance-password-policy.json']) {
      expect(matchesAnyEventPattern(patternsOf(Resources), fixture(name)), name).toBe(true);
    }
  });

  it('forwards nothing else: a GuardDuty IAM finding no playbook acts on, Security Hub findings (aggregated by Security Hub itself)', async () => {
    const { Resources } = await template();
    for (const name of ['guardduty-iam-accesskey.json', 'securityhub-imported-open-ssh.json', 'securityhub-v2-ocsf-compliance.json']) {
      expect(matchesAnyEventPattern(patternsOf(Resources), fixture(name)), name).toBe(false);
    }
    for (const pattern of patternsOf(Resources) as Array<{ source: string[] }>) expect(['aws.guardduty', 'aws.config']).toEqual(expect.arrayContaining(pattern.source));
  });

  it('sends to the home region’s bus through a role allowed only events:PutEvents on it', async () => {
    const { Resources } = await template();
    for (const rule of rulesOf(Resources)) {
      expect(rule.Properties?.Targets).toEqual([
        { Id: 'riposte-home-bus', Arn: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${HomeRegion}:${RiposteAccountId}:event-bus/${HomeBusName}' }, RoleArn: { 'Fn::GetAtt': ['ForwarderRole', 'Arn'] } },
      ]);
    }
    const policies = Resources.ForwarderRole?.Properties?.Policies as Array<{ PolicyDocument: { Statement: Json[] } }>;
    expect(policies.flatMap((policy) => policy.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${HomeRegion}:${RiposteAccountId}:event-bus/${HomeBusName}' } },
    ]);
  });

  it('creates nothing in the home region (a rule may not send to the bus it reads), where the stack keeps a no-op resource', async () => {
    const { Conditions, Resources, Parameters } = await template(['--home-region', 'eu-west-1']);
    expect(Parameters.HomeRegion?.Default).toBe('eu-west-1');
    expect(Conditions.ForwardHere).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'HomeRegion' }] }] });
    for (const [name, resource] of Object.entries(Resources)) expect(resource.Condition, name).toBe(resource.Type === 'AWS::CloudFormation::WaitConditionHandle' ? undefined : 'ForwardHere');
    // No role name: IAM is global, and one stack per region must not collide with another's.
    expect(Resources.ForwarderRole?.Properties).not.toHaveProperty('RoleName');
  });

  it('--bus-name names the home bus', async () => {
    const { Parameters } = await template(['--bus-name', 'security']);
    expect(Parameters.HomeBusName?.Default).toBe('security');
  });

  it('a library with no GuardDuty or Config playbook: exit 1, nothing printed on stdout', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'riposte-forwarders-'));
    writeFileSync(join(directory, 'controls.yml'), 'id: controls\ntitle: t\ntriggers: { automatic: true }\nmatch:\n  source: securityhub\n  control.id: EC2.2\nsteps:\n  - notify: {}\n');
    const result = await riposte(['forwarders', directory]);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('nothing to forward');
  });
});
