import { describe, expect, it } from 'vitest';

import { builtInActions } from '../../src/actions/index.js';
import { readEvent, type Finding, type Resource } from '../../src/intake/index.js';
import { claimTarget, primaryTarget, resolveTargets, resourceKey, restoreTargets, stepResource } from '../../src/pipeline/targets.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { fixture } from '../support/fixtures.js';
import { fakeLiveView } from './fake-live-view.js';

const registry = builtInActions();
const first = (name: string): Finding => readEvent(fixture(name)).findings[0] as Finding;
const actions = (...names: string[]) => names.map((name) => registry.get(name));
const GD_INSTANCE = 'i-0a1b2c3d4e5f60718';
const FIXTURE_GROUP = 'sg-0f1e2d3c4b5a69788';
const OTHER_GROUP = 'sg-0aaaaaaaaaaaaaaaa';

/** The finding with its first resource changed as `change` says (what a crafted finding sends, as intake read it). */
const withResource = (finding: Finding, change: (resource: Resource) => Resource): Finding => ({ ...finding, resources: [change(finding.resources[0] as Resource), ...finding.resources.slice(1)] });

describe('claimTarget', () => {
  it('names the GuardDuty finding’s instance for instance actions, and the account for account settings', () => {
    const finding = first('guardduty-ec2-backdoor.json');
    expect(claimTarget(finding, registry.get('ec2.isolate'))).toMatchObject({ kind: 'instance', id: GD_INSTANCE });
    expect(claimTarget(finding, registry.get('iam.set-password-policy'))).toMatchObject({ kind: 'account', resource: { type: 'AwsAccount', id: 'AWS::::Account:111122223333' } });
    expect(claimTarget(finding, registry.get('notify'))).toBeUndefined();
  });

  it('names the security group a Security Hub EC2 finding names', () => {
    expect(claimTarget(first('securityhub-imported-open-ssh.json'), registry.get('ec2.revoke-unrestricted-ingress'))).toMatchObject({ kind: 'security-group', id: FIXTURE_GROUP });
  });

  it('refuses a group whose Id names one group and whose Details name another (case 1), naming both', () => {
    const finding = withResource(first('securityhub-imported-open-ssh.json'), (resource) => ({ ...resource, securityGroupIds: [OTHER_GROUP] }));
    const claim = claimTarget(finding, registry.get('ec2.revoke-unrestricted-ingress'));
    expect(claim).toMatchObject({ kind: 'disputed' });
    expect(claim?.kind === 'disputed' && claim.reasons.join(' ')).toMatch(new RegExp(`${FIXTURE_GROUP}.*${OTHER_GROUP}`));
  });

  it('refuses a resource of Type AwsIamRole whose Id is an instance id (case 2)', () => {
    const finding = withResource(first('guardduty-ec2-backdoor.json'), (resource) => ({ ...resource, type: 'AwsIamRole', id: GD_INSTANCE, iamRole: { name: 'web-prod' } }));
    const claim = claimTarget(finding, registry.get('ec2.isolate'));
    expect(claim).toMatchObject({ kind: 'disputed', reasons: [expect.stringMatching(new RegExp(`AwsIamRole.*${GD_INSTANCE}`))] });
  });

  it('refuses an instance whose ARN names no instance (an Auto Scaling group) while its Details name one (case 3)', () => {
    const asg = 'arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:0b5f:autoScalingGroupName/web-fleet';
    const finding = withResource(first('guardduty-ec2-backdoor.json'), (resource) => ({ ...resource, id: asg, arn: asg }));
    expect(claimTarget(finding, registry.get('ec2.isolate'))).toMatchObject({
      kind: 'disputed',
      reasons: [expect.stringContaining('names no EC2 instance, while its Details name instance i-0a1b2c3d4e5f60718')],
    });
  });

  it('refuses what intake marked disputed, with intake’s reasons', () => {
    const finding = withResource(first('guardduty-ec2-backdoor.json'), (resource) => ({ ...resource, disputed: ['its Id names i-1, its Details i-2'] }));
    expect(claimTarget(finding, registry.get('ec2.isolate'))).toMatchObject({ kind: 'disputed', reasons: ['its Id names i-1, its Details i-2'] });
  });

  it('refuses a resource in another account than the finding’s, and an account resource naming another account', () => {
    const elsewhere = withResource(first('guardduty-ec2-backdoor.json'), (resource) => ({ ...resource, account: '999999999999' }));
    expect(claimTarget(elsewhere, registry.get('ec2.isolate'))).toMatchObject({ kind: 'disputed', reasons: [expect.stringContaining('account 999999999999, the finding in account 111122223333')] });
    const cis = first('securityhub-imported-cis-password-policy.json');
    const other = withResource(cis, (resource) => ({ ...resource, id: 'AWS::::Account:999999999999' }));
    expect(claimTarget(other, registry.get('iam.set-password-policy'))).toMatchObject({ kind: 'disputed' });
  });
});

describe('resolveTargets (with a fake live view)', () => {
  it('resolves each distinct target once, from what AWS answers, and guards on the first step that acts on something', async () => {
    const finding = first('guardduty-ec2-backdoor.json');
    const live = fakeLiveView({ instances: { [GD_INSTANCE]: { tags: { team: 'web' }, securityGroupIds: ['sg-live'] } } });
    const targets = await resolveTargets(finding, actions('finding.update', 'ec2.capture-metadata', 'ec2.isolate'), live);

    expect(live.asked).toEqual([`instance:${GD_INSTANCE}`]);
    expect(targets).toEqual([
      { status: 'resolved', steps: [1, 2], stale: [expect.any(String)], target: expect.objectContaining({ kind: 'instance', id: GD_INSTANCE, tags: { kind: 'tags', tags: { team: 'web' } } }) },
    ]);
    const primary = primaryTarget(targets);
    expect(primary?.status === 'resolved' && resourceKey(primary.target)).toBe(`arn:aws:ec2:us-east-1:111122223333:instance/${GD_INSTANCE}`);
    // What the action sees: the live groups, and the finding step gets the primary target.
    expect(stepResource(targets, 2, 'r-1')).toMatchObject({ instanceId: GD_INSTANCE, securityGroupIds: ['sg-live'] });
    expect(stepResource(targets, 0, 'r-1')).toMatchObject({ instanceId: GD_INSTANCE });
  });

  it('gives revoke-role-sessions only the live profile’s role: none when the instance has no profile, whatever the finding names (case 4)', async () => {
    const finding = first('guardduty-ec2-backdoor.json');
    expect(finding.resources[0]?.iamRole?.instanceProfileArn).toContain('web-prod-instance-profile');
    const bare = await resolveTargets(finding, actions('iam.revoke-role-sessions'), fakeLiveView({ instances: { [GD_INSTANCE]: {} } }));
    expect(stepResource(bare, 0, 'r-1').iamRole).toBeUndefined();
    expect(bare[0]).toMatchObject({ status: 'resolved', stale: [expect.stringContaining('the instance has no instance profile now')] });

    const profile = { arn: 'arn:aws:iam::111122223333:instance-profile/batch', associationId: 'iip-assoc-1', role: { name: 'batch', arn: 'arn:aws:iam::111122223333:role/batch' } };
    const moved = await resolveTargets(finding, actions('iam.revoke-role-sessions'), fakeLiveView({ instances: { [GD_INSTANCE]: { profile } } }));
    expect(stepResource(moved, 0, 'r-1').iamRole).toEqual({ instanceProfileArn: profile.arn, name: 'batch', arn: profile.role.arn });
  });

  it('refuses a target AWS no longer shows as stale: gone, or terminated', async () => {
    const finding = first('guardduty-ec2-backdoor.json');
    const gone = await resolveTargets(finding, actions('ec2.isolate'), fakeLiveView({}));
    expect(gone).toEqual([expect.objectContaining({ status: 'refused', code: 'target-stale', reason: expect.stringContaining(`instance ${GD_INSTANCE}, named by the finding, does not exist`) })]);
    const terminated = await resolveTargets(finding, actions('ec2.isolate'), fakeLiveView({ instances: { [GD_INSTANCE]: { state: 'terminated' } } }));
    expect(terminated[0]).toMatchObject({ status: 'refused', code: 'target-stale', reason: expect.stringContaining('terminated') });
  });

  it('never reads a disputed resource', async () => {
    const finding = withResource(first('securityhub-imported-open-ssh.json'), (resource) => ({ ...resource, securityGroupIds: [OTHER_GROUP] }));
    const live = fakeLiveView({ groups: { [FIXTURE_GROUP]: {}, [OTHER_GROUP]: { tags: { 'riposte:exempt': 'true' } } } });
    const targets = await resolveTargets(finding, actions('ec2.revoke-unrestricted-ingress'), live);
    expect(targets[0]).toMatchObject({ status: 'refused', code: 'target-disputed', reason: expect.stringContaining('disagrees with itself') });
    expect(live.asked).toEqual([]);
    expect(() => stepResource(targets, 0, 'r-1')).toThrow(/no resolved target/);
  });

  it('turns a failed read into tags-unreadable, naming the resource', async () => {
    const finding = first('guardduty-ec2-backdoor.json');
    const live = { ...fakeLiveView({}), instance: () => Promise.reject(new Error('AccessDenied: not authorized to perform ec2:DescribeInstances')) };
    const [resolution] = await resolveTargets(finding, actions('ec2.isolate'), live);
    expect(resolution).toMatchObject({ status: 'refused', code: 'tags-unreadable', reason: expect.stringMatching(/could not be read.*AccessDenied/) });
  });

  it('guards a playbook acting only on the finding record by its first resource’s tags', async () => {
    const finding = first('securityhub-imported-open-ssh.json');
    const live = fakeLiveView({});
    const targets = await resolveTargets(finding, actions('notify'), live);
    expect(targets).toEqual([expect.objectContaining({ status: 'resolved', steps: [], target: expect.objectContaining({ kind: 'reported', type: 'AwsEc2SecurityGroup' }) })]);
  });
});

describe('restoreTargets', () => {
  const record = (targets: unknown): RunRecord => ({ runId: 'r-1', targets }) as unknown as RunRecord;

  it('gives back the targets a record holds, and refuses a record without them', async () => {
    const targets = await resolveTargets(first('guardduty-ec2-backdoor.json'), actions('ec2.isolate'), fakeLiveView({ instances: { [GD_INSTANCE]: {} } }));
    expect(restoreTargets(record(JSON.parse(JSON.stringify(targets)) as unknown))).toEqual(targets);
    expect(() => restoreTargets(record(undefined))).toThrow(/stored targets have no valid targets/);
    expect(() => restoreTargets(record([{ status: 'resolved', steps: [0], target: { kind: 'instance' } }]))).toThrow(/targets\[0\]/);
  });
});
