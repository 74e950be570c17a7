import { describe, expect, it } from 'vitest';

import { builtInActions, type ActionContext, type PlannedChange } from '../../src/actions/index.js';

const registry = builtInActions();
/** The action's `undoOfPlanned`, as the pipeline calls it. */
const undoOf = (action: string) => (ctx: ActionContext, planned: readonly PlannedChange[]) => registry.get(action).behaviour.undoOfPlanned?.(ctx, planned);
const isolateInstance = { undo: undoOf('ec2.isolate') };
const detachInstanceProfile = { undo: undoOf('ec2.detach-instance-profile') };
const revokeRoleSessions = { undo: undoOf('iam.revoke-role-sessions') };
const enableTerminationProtection = { undo: undoOf('ec2.enable-termination-protection') };

/*
 * A retry that finds a change made by the attempt it retries (killed before
 * recording it) keeps the undo that attempt's plan gives (src/pipeline/execute.ts):
 * each reversible action turns its own plan's changes into the undo its rollback takes.
 */

const context = {
  runId: 'r-20261205T020000Z-000000000002',
  resource: {
    type: 'AwsEc2Instance',
    id: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
    instanceId: 'i-0a1b2c3d4e5f60718',
    account: '111122223333',
    region: 'us-east-1',
    partition: 'aws',
    securityGroupIds: [],
    networkInterfaces: [],
    iamRole: { instanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/web', name: 'web-role', arn: 'arn:aws:iam::111122223333:role/web-role' },
  },
} as unknown as ActionContext;

describe('undoOfPlanned: the undo of a change an earlier attempt planned and made without recording it', () => {
  it('ec2.isolate: each interface back to the groups the plan read', () => {
    const planned: PlannedChange[] = [
      { field: 'networkInterfaces.eni-0f1a2b3c4d5e6f708.groups', from: ['sg-0a1b2c3d4e5f67890', 'sg-0123abcd4567ef890'], to: ['sg-0f0e0d0c0b0a09081'] },
      { field: 'networkInterfaces.eni-0f1a2b3c4d5e6f709.groups', from: ['sg-0a1b2c3d4e5f67890'], to: ['sg-0f0e0d0c0b0a09081'] },
      { field: 'securityGroups.sg-0f0e0d0c0b0a09081.rules', from: 2, to: 0 },
    ];
    expect(isolateInstance.undo(context, planned)).toEqual({
      instanceId: 'i-0a1b2c3d4e5f60718',
      previousGroups: { 'eni-0f1a2b3c4d5e6f708': ['sg-0a1b2c3d4e5f67890', 'sg-0123abcd4567ef890'], 'eni-0f1a2b3c4d5e6f709': ['sg-0a1b2c3d4e5f67890'] },
      quarantineGroups: {},
    });
    // A plan that moved no interface gives nothing to restore.
    expect(isolateInstance.undo(context, [planned[2] as PlannedChange])).toBeUndefined();
  });

  it('ec2.detach-instance-profile: the profile the plan would detach', () => {
    expect(detachInstanceProfile.undo(context, [{ field: 'IamInstanceProfile', from: 'arn:aws:iam::111122223333:instance-profile/web', to: null }])).toEqual({
      instanceId: 'i-0a1b2c3d4e5f60718',
      instanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/web',
    });
    expect(detachInstanceProfile.undo(context, [])).toBeUndefined();
  });

  it('iam.revoke-role-sessions: the run’s role, and the policy document the plan read (none: rollback removes the policy)', () => {
    const field = 'RolePolicy riposte-revoke-older-sessions';
    expect(revokeRoleSessions.undo(context, [{ field, from: null, to: 'deny * to tokens issued before now' }])).toEqual({
      roleName: 'web-role',
      policyName: 'riposte-revoke-older-sessions',
      previousDocument: null,
    });
    expect(revokeRoleSessions.undo(context, [{ field, from: '{"Version":"2012-10-17"}', to: 'deny' }])).toMatchObject({ previousDocument: '{"Version":"2012-10-17"}' });
    expect(revokeRoleSessions.undo(context, [{ field, from: 42, to: 'deny' }])).toBeUndefined();
  });

  it('ec2.enable-termination-protection: the attributes before, a field the plan left alone as it already was', () => {
    expect(enableTerminationProtection.undo(context, [{ field: 'disableApiTermination', from: false, to: true }])).toEqual({
      instanceId: 'i-0a1b2c3d4e5f60718',
      previous: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'stop' },
    });
    expect(
      enableTerminationProtection.undo(context, [
        { field: 'disableApiTermination', from: false, to: true },
        { field: 'instanceInitiatedShutdownBehavior', from: 'terminate', to: 'stop' },
      ]),
    ).toEqual({ instanceId: 'i-0a1b2c3d4e5f60718', previous: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' } });
  });
});
