import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { builtInActions, type ActionDefinition, type ResolvedTarget } from '../../src/actions/index.js';
import { ec2Arn } from '../../src/aws-names.js';
import { readEvent, type Finding, type Resource } from '../../src/intake/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import type { CompiledPlaybook } from '../../src/playbooks/index.js';
import { guardRun } from '../../src/pipeline/guard.js';
import type { RunContext } from '../../src/pipeline/run-state.js';
import { resolveTargets, stepResource, type RunTargets } from '../../src/pipeline/targets.js';
import { DEFAULT_PIPELINE_SETTINGS } from '../../src/pipeline/types.js';
import { propertyTimeout, runs } from '../support/fast-check.js';
import { fixture } from '../support/fixtures.js';
import { fakeLiveView, type FakeAccount } from './fake-live-view.js';

/*
 * Issue 11: for random findings whose fields disagree about their resource
 * (Id vs Details vs ARN, a Type that does not match the Id, another
 * account, intake's own disputes), resolution against a member account
 * (a fake live view: which instances and groups exist, and which are
 * tagged exempt) never lets a step act on anything but what was resolved
 * live, and never on an exempt resource. Pure: no emulator.
 */

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '999988887777';
const REGION = 'us-east-1';
const EXEMPT = { 'riposte:exempt': 'true' };
const INSTANCES = ['i-0aaaaaaaaaaaaaaa1', 'i-0bbbbbbbbbbbbbbb2', 'i-0ccccccccccccccc3', 'i-0ddddddddddddddd4'] as const;
const GROUPS = ['sg-0aaaaaaaaaaaaaaa1', 'sg-0bbbbbbbbbbbbbbb2', 'sg-0ccccccccccccccc3', 'sg-0ddddddddddddddd4'] as const;
const registry = builtInActions();
const ACTIONS = ['ec2.isolate', 'iam.revoke-role-sessions', 'ec2.revoke-unrestricted-ingress', 'ec2.restrict-default-security-group', 'iam.set-password-policy', 'notify', 'finding.update'].map(
  (name) => registry.get(name),
);
const base = readEvent(fixture('guardduty-ec2-backdoor.json')).findings[0] as Finding;

const instanceArn = (id: string, account = ACCOUNT): string => ec2Arn('aws', REGION, account, 'instance', id);
const groupArn = (id: string, account = ACCOUNT): string => ec2Arn('aws', REGION, account, 'security-group', id);

/** Any text a finding might put where a resource is named: ids, ARNs of either kind, an Auto Scaling group, a role. */
const naming = fc.oneof(
  fc.constantFrom(...INSTANCES),
  fc.constantFrom(...INSTANCES).map((id) => instanceArn(id)),
  fc.constantFrom(...INSTANCES).map((id) => instanceArn(id, OTHER_ACCOUNT)),
  fc.constantFrom(...GROUPS),
  fc.constantFrom(...GROUPS).map((id) => groupArn(id)),
  fc.constant(`arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:0b5f:autoScalingGroupName/web-fleet`),
  fc.constant(`arn:aws:iam::${ACCOUNT}:role/web-prod`),
  fc.constant(`AWS::::Account:${ACCOUNT}`),
  fc.constant(`AWS::::Account:${OTHER_ACCOUNT}`),
);

const anyResource: fc.Arbitrary<Resource> = fc
  .record({
    type: fc.constantFrom('AwsEc2Instance', 'AwsEc2SecurityGroup', 'AwsIamRole', 'AwsEc2NetworkInterface', 'AwsAccount', 'AwsS3Bucket'),
    id: naming,
    arn: fc.option(naming, { nil: undefined }),
    instanceId: fc.option(fc.constantFrom(...INSTANCES), { nil: undefined }),
    securityGroupIds: fc.subarray([...GROUPS], { maxLength: 2 }),
    account: fc.constantFrom(ACCOUNT, ACCOUNT, ACCOUNT, OTHER_ACCOUNT),
    profile: fc.option(fc.constant(`arn:aws:iam::${ACCOUNT}:instance-profile/web-prod-instance-profile`), { nil: undefined }),
    disputed: fc.option(fc.constant(['its Id names one thing, its Details another']), { nil: undefined, freq: 5 }),
  })
  .map(({ type, id, arn, instanceId, securityGroupIds, account, profile, disputed }) => ({
    type,
    id,
    ...(arn === undefined ? {} : { arn }),
    account,
    region: REGION,
    partition: 'aws' as const,
    ...(instanceId === undefined ? {} : { instanceId }),
    securityGroupIds,
    networkInterfaces: [],
    ...(profile === undefined ? {} : { iamRole: { instanceProfileArn: profile } }),
    ...(disputed === undefined ? {} : { disputed }),
  }));

/** A resource whose fields agree (an instance or a group named the same way everywhere), some of them then crafted to disagree in one field. */
const agreeing: fc.Arbitrary<Resource> = fc
  .record({
    instance: fc.boolean(),
    index: fc.nat({ max: 3 }),
    profile: fc.boolean(),
    crafted: fc.option(fc.record({ field: fc.constantFrom('id', 'arn', 'instanceId', 'securityGroupIds', 'type', 'account'), to: naming }), { nil: undefined, freq: 2 }),
  })
  .map(({ instance, index, profile, crafted }): Resource => {
    const id = instance ? (INSTANCES[index] as string) : (GROUPS[index] as string);
    const arn = instance ? instanceArn(id) : groupArn(id);
    const resource: Resource = {
      type: instance ? 'AwsEc2Instance' : 'AwsEc2SecurityGroup',
      id: arn,
      arn,
      account: ACCOUNT,
      region: REGION,
      partition: 'aws',
      ...(instance ? { instanceId: id } : {}),
      securityGroupIds: instance ? [] : [id],
      networkInterfaces: [],
      ...(instance && profile ? { iamRole: { instanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/web-prod-instance-profile` } } : {}),
    };
    if (crafted === undefined) return resource;
    switch (crafted.field) {
      case 'securityGroupIds':
        return { ...resource, securityGroupIds: [crafted.to] };
      case 'type':
        return { ...resource, type: instance ? 'AwsIamRole' : 'AwsEc2NetworkInterface' };
      case 'account':
        return { ...resource, account: OTHER_ACCOUNT };
      default:
        return { ...resource, [crafted.field]: crafted.to };
    }
  });

const resourceArbitrary = fc.oneof({ arbitrary: agreeing, weight: 3 }, { arbitrary: anyResource, weight: 1 });

/** Which instances and groups exist in the member account, which are exempt, and which instance has a profile. */
const accountArbitrary: fc.Arbitrary<FakeAccount> = fc
  .record({
    instances: fc.subarray([...INSTANCES], { minLength: 1 }),
    exemptInstances: fc.subarray([...INSTANCES]),
    groups: fc.subarray([...GROUPS], { minLength: 1 }),
    exemptGroups: fc.subarray([...GROUPS]),
    withProfile: fc.subarray([...INSTANCES]),
    terminated: fc.subarray([...INSTANCES], { maxLength: 1 }),
  })
  .map(({ instances, exemptInstances, groups, exemptGroups, withProfile, terminated }) => ({
    instances: Object.fromEntries(
      instances.map((id) => [
        id,
        {
          state: terminated.includes(id) ? 'terminated' : 'running',
          tags: exemptInstances.includes(id) ? EXEMPT : { Name: id },
          ...(withProfile.includes(id)
            ? {
                profile: { arn: `arn:aws:iam::${ACCOUNT}:instance-profile/live-${id}`, associationId: `iip-assoc-${id}`, role: { name: `live-${id}`, arn: `arn:aws:iam::${ACCOUNT}:role/live-${id}` } },
              }
            : {}),
        },
      ]),
    ),
    groups: Object.fromEntries(groups.map((id) => [id, { tags: exemptGroups.includes(id) ? EXEMPT : {} }])),
  }));

/** What the guard says of these targets, through the pipeline's own exemption guard. */
function guardOf(finding: Finding, targets: RunTargets): ReturnType<typeof guardRun> {
  const context = {
    services: { settings: DEFAULT_PIPELINE_SETTINGS },
    finding,
    targets,
    logger: new RiposteLogger({ logLevel: 'error', stream: new MemoryLogSink() }),
    writer: { runId: 'r-property' },
  } as unknown as RunContext;
  const playbook = { playbook: { exempt: { accounts: [], tags: EXEMPT } } } as unknown as CompiledPlaybook;
  return guardRun(context, playbook, new Date('2026-01-01T00:00:00Z'));
}

/** The id a step's resource hands its action: the instance for instance actions, the group for group actions. */
const actedOn = (action: ActionDefinition, resource: Resource): string | undefined =>
  action.target === 'instance' ? resource.instanceId : action.target === 'security-group' ? resource.securityGroupIds[0] : action.target === 'account' ? resource.id : undefined;

const liveExempt = (account: FakeAccount, target: ResolvedTarget): boolean =>
  target.kind === 'instance'
    ? account.instances?.[target.id]?.tags?.['riposte:exempt'] === 'true'
    : target.kind === 'security-group'
      ? account.groups?.[target.id]?.tags?.['riposte:exempt'] === 'true'
      : false;

describe('target resolution (property)', () => {
  it(
    'for findings whose fields disagree, no step acts on anything but its target as resolved live, and never on an exempt one',
    async () => {
      const seen = { went: 0, refused: 0, exempt: 0, disputed: 0 };
      await fc.assert(
        fc.asyncProperty(fc.array(resourceArbitrary, { minLength: 1, maxLength: 3 }), accountArbitrary, fc.subarray(ACTIONS, { minLength: 1 }), async (resources, account, actions) => {
          const finding: Finding = { ...base, account: ACCOUNT, region: REGION, resources };
          const live = fakeLiveView(account);
          const targets = await resolveTargets(finding, actions, live);
          const decision = guardOf(finding, targets);

          if (targets.some((resolution) => resolution.status === 'refused' && resolution.code === 'target-disputed')) seen.disputed += 1;
          if (decision.verdict === 'stop') {
            seen.refused += 1;
            if (decision.code === 'resource-exempt') seen.exempt += 1;
            return;
          }
          seen.went += 1;
          for (const resolution of targets) {
            // The guard let the run through: every target resolved, none exempt as AWS shows it.
            expect(resolution.status).toBe('resolved');
            if (resolution.status !== 'resolved') return;
            const { target } = resolution;
            expect(liveExempt(account, target)).toBe(false);
            if (target.kind === 'instance') {
              expect(live.asked).toContain(`instance:${target.id}`);
              expect(target.instance.state).not.toBe('terminated');
              // The role handed to actions is the live profile's, or none: never the finding's.
              expect(target.instance.profile?.arn).toBe(account.instances?.[target.id]?.profile?.arn);
            }
            if (target.kind === 'security-group') expect(live.asked).toContain(`security-group:${target.id}`);
          }
          actions.forEach((action, index) => {
            if (action.target === 'finding') return;
            const resolution = targets.find((each) => each.steps.includes(index));
            expect(resolution?.status).toBe('resolved');
            if (resolution?.status !== 'resolved') return;
            const resource = stepResource(targets, index, 'r-property');
            // What the action is given is what was resolved, and nothing the finding said beside it.
            if (resolution.target.kind === 'reported') {
              // The finding names nothing of the action's kind: the action gets nothing of that kind to act on.
              expect(actedOn(action, resource) === undefined || action.target === 'account').toBe(true);
              return;
            }
            expect(resource.arn ?? resource.id).toBe(resolution.target.kind === 'account' ? resolution.target.id : resolution.target.arn);
            expect(actedOn(action, resource)).toBe(resolution.target.id);
            if (action.target === 'instance' && resolution.target.kind === 'instance') {
              expect(resource.iamRole?.instanceProfileArn).toBe(account.instances?.[resolution.target.id]?.profile?.arn);
            }
            if (action.target === 'security-group' && resolution.target.kind === 'security-group') expect(resource.securityGroupIds).toEqual([resolution.target.id]);
          });
        }),
        { numRuns: runs(400) },
      );
      // Not vacuous: runs went through, and runs were refused as disputed and as exempt.
      expect(seen.went).toBeGreaterThan(0);
      expect(seen.disputed).toBeGreaterThan(0);
      expect(seen.exempt).toBeGreaterThan(0);
    },
    propertyTimeout(60_000),
  );
});
