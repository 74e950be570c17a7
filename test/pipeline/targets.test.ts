import { describe, expect, it } from 'vitest';

import { builtInActions } from '../../src/actions/index.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { primaryResource, resourceForStep, resourceKey } from '../../src/pipeline/targets.js';
import { fixture } from '../support/fixtures.js';

const registry = builtInActions();
const first = (name: string): Finding => readEvent(fixture(name)).findings[0] as Finding;

describe('resourceForStep', () => {
  it('acts on the GuardDuty finding’s instance for instance actions, and the account for account settings', () => {
    const finding = first('guardduty-ec2-backdoor.json');
    expect(resourceForStep(finding, registry.get('ec2.isolate')).instanceId).toBe('i-0a1b2c3d4e5f60718');
    const account = resourceForStep(finding, registry.get('iam.set-password-policy'));
    expect(account).toMatchObject({ type: 'AwsAccount', id: 'AWS::::Account:111122223333', account: '111122223333' });
  });

  it('acts on the security group a Security Hub EC2 finding names', () => {
    const finding = first('securityhub-imported-open-ssh.json');
    expect(resourceForStep(finding, registry.get('ec2.revoke-unrestricted-ingress')).type).toBe('AwsEc2SecurityGroup');
  });

  it('guards a playbook on the resource of its first step that acts on something other than the finding record', () => {
    const finding = first('guardduty-ec2-backdoor.json');
    const actions = ['finding.update', 'ec2.capture-metadata', 'ec2.isolate'].map((name) => registry.get(name));
    expect(primaryResource(finding, actions).instanceId).toBe('i-0a1b2c3d4e5f60718');
    expect(resourceKey(primaryResource(finding, actions))).toBe('arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718');
  });
});
