import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  ReplaceIamInstanceProfileAssociationCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { GetAccountPasswordPolicyCommand, GetRolePolicyCommand, IAMClient, NoSuchEntityException, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';

import { REVOKE_POLICY_NAME } from '../../src/actions/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import type { PlaybookRunResult } from '../../src/pipeline/index.js';
import { compromisedInstance, eventFor, guardDutyEventFor, onlyRun, pipelineLab, playbooksFromYaml, type CompromisedInstance, type PipelineLab } from '../support/pipeline-lab.js';

/*
 * Issue 11, "the finding names, AWS decides": findings crafted (or merely
 * stale) so that their fields disagree with each other or with AWS, run
 * through the real pipeline in `automatic: enforce` against the emulator.
 * Each test reads the state back: what must not change did not, and the
 * guard's reason is recorded.
 */

const MEMBER = '222222222222';
const REGION = 'us-east-1';
const target = { account: MEMBER, region: REGION, partition: 'aws' as const, correlationId: 'readback' };
const FIXTURE_GROUP = 'sg-0f1e2d3c4b5a69788';
const FIXTURE_INSTANCE = 'i-0a1b2c3d4e5f60718';
const FIXTURE_FINDING = '5a82ee9adccd84d14d108fae10cd4bb8';
const EXEMPT = { 'riposte:exempt': 'true' };
const SSH_FROM_ANYWHERE: IpPermission = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

type Json = Record<string, unknown>;
/** The first finding of an EventBridge event (Security Hub's `detail.findings[0]`), to edit in place. */
const firstFinding = (event: Json): Json => (event.detail as { findings: Json[] }).findings[0] as Json;
const firstResource = (event: Json): Json => (firstFinding(event).Resources as Json[])[0] as Json;

const ec2Of = (current: PipelineLab): EC2Client => current.clients.create(EC2Client, target);
const iamOf = (current: PipelineLab): IAMClient => current.clients.create(IAMClient, target);

/** A group in a new VPC, open to SSH from anywhere, tagged as given. */
async function openGroup(current: PipelineLab, name: string, tags: Record<string, string> = {}): Promise<string> {
  const ec2 = ec2Of(current);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }))).Vpc?.VpcId as string;
  const groupId = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: name }))).GroupId as string;
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [SSH_FROM_ANYWHERE] }));
  if (Object.keys(tags).length > 0) await ec2.send(new CreateTagsCommand({ Resources: [groupId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  return groupId;
}

/** A new VPC's default group, with the self-referencing rule AWS gives it (moto does not) and SSH from anywhere, tagged as given. */
async function defaultGroup(current: PipelineLab, tags: Record<string, string> = {}): Promise<string> {
  const ec2 = ec2Of(current);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc?.VpcId as string;
  const { SecurityGroups } = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: ['default'] },
      ],
    }),
  );
  const groupId = SecurityGroups?.[0]?.GroupId as string;
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }, SSH_FROM_ANYWHERE] }));
  if (Object.keys(tags).length > 0) await ec2.send(new CreateTagsCommand({ Resources: [groupId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  return groupId;
}

/** A group's rules as EC2 reads them now. */
async function rulesOf(current: PipelineLab, groupId: string): Promise<{ ingress: unknown; egress: unknown }> {
  const { SecurityGroups } = await ec2Of(current).send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  return { ingress: SecurityGroups?.[0]?.IpPermissions ?? [], egress: SecurityGroups?.[0]?.IpPermissionsEgress ?? [] };
}

const opensSsh = (rules: { ingress: unknown }): boolean =>
  (rules.ingress as IpPermission[]).some((permission) => permission.FromPort === 22 && (permission.IpRanges ?? []).some((range) => range.CidrIp === '0.0.0.0/0'));

/** What a compromise response would change on an instance, read back: snapshots, termination protection, interface groups. */
async function instanceState(current: PipelineLab, instance: CompromisedInstance): Promise<unknown> {
  const ec2 = ec2Of(current);
  const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...instance.volumeIds] }] }));
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return {
    snapshots: Snapshots?.length ?? 0,
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    groups: Object.fromEntries((NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId, (eni.Groups ?? []).map((group) => group.GroupId).sort()])),
  };
}

const terminationProtected = async (current: PipelineLab, instanceId: string): Promise<boolean> =>
  (await ec2Of(current).send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }))).DisableApiTermination?.Value ?? false;

/** The role's Riposte revoke policy, or `undefined` when it has none. */
async function revokePolicy(current: PipelineLab, roleName: string): Promise<string | undefined> {
  try {
    return (await iamOf(current).send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME }))).PolicyDocument;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

async function disassociateProfile(current: PipelineLab, instanceId: string): Promise<void> {
  const ec2 = ec2Of(current);
  const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
  for (const association of IamInstanceProfileAssociations ?? []) {
    if (association.State === 'associated') await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: association.AssociationId }));
  }
}

/** The run's record and the guard that stopped it, read back from the ledger. */
async function recorded(current: PipelineLab, run: PlaybookRunResult): Promise<RunRecord> {
  const record = (await current.ledger.getRun(run.runId as string)) as RunRecord;
  expect(record.steps).toEqual([]);
  expect(record.outcome?.details).toMatchObject({ guard: { code: run.guard?.code, reason: run.summary } });
  return record;
}

const GUARDDUTY_INSTANCES = `
id: protect-guardduty-instances
title: Protect and isolate instances GuardDuty names
triggers: { automatic: true }
match:
  product.id: guardduty
  severity.label: [HIGH, CRITICAL]
steps:
  - ec2.enable-termination-protection: {}
  - ec2.isolate: {}
`;

describe('case 1: a security group finding whose Id and Details name different groups', () => {
  it('ASFF Resources[0].Id names group A, Details.AwsEc2SecurityGroup.GroupId names exempt group B: B keeps its 0.0.0.0/0:22 rule (ec2.revoke-unrestricted-ingress)', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const a = await openGroup(lab, 'named-by-id');
    const b = await openGroup(lab, 'exempt-by-tag', EXEMPT);
    const event = eventFor('securityhub-imported-open-ssh.json', MEMBER, { [FIXTURE_GROUP]: a });
    ((firstResource(event).Details as Json).AwsEc2SecurityGroup as Json).GroupId = b;
    const [beforeA, beforeB] = [await rulesOf(lab, a), await rulesOf(lab, b)];

    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(opensSsh(await rulesOf(lab, b))).toBe(true);
    expect(await rulesOf(lab, b)).toEqual(beforeB);
    expect(await rulesOf(lab, a)).toEqual(beforeA);
    expect(run).toMatchObject({ playbookId: 'revoke-unrestricted-admin-ingress', status: 'skipped', guard: { code: 'target-disputed' } });
    expect(run.summary).toContain(a);
    expect(run.summary).toContain(b);
    await recorded(lab, run);
  });

  it('the same split on a default group: ec2.restrict-default-security-group leaves exempt default group B’s rules in place', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const a = await defaultGroup(lab);
    const b = await defaultGroup(lab, EXEMPT);
    const event = eventFor('securityhub-imported-open-ssh.json', MEMBER, { [FIXTURE_GROUP]: a, 'EC2.13': 'EC2.2', 'bastion-legacy-sg': 'default' });
    ((firstResource(event).Details as Json).AwsEc2SecurityGroup as Json).GroupId = b;
    const [beforeA, beforeB] = [await rulesOf(lab, a), await rulesOf(lab, b)];

    const runs = (await lab.pipeline.handleEvent(event)).findings[0]?.runs ?? [];

    expect(await rulesOf(lab, b)).toEqual(beforeB);
    expect(await rulesOf(lab, a)).toEqual(beforeA);
    // The finding's CIS 4.1 requirement matches the SSH playbook too: every playbook is refused.
    expect(runs.map((run) => run.playbookId).sort()).toEqual(['empty-default-security-group', 'revoke-unrestricted-admin-ingress']);
    for (const run of runs) {
      expect(run).toMatchObject({ status: 'skipped', guard: { code: 'target-disputed' } });
      expect(run.summary).toContain(a);
      expect(run.summary).toContain(b);
    }
  });

  it('OCSF resource uid names exempt group B, uid_alt the ARN of group A: B keeps its rule', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const a = await openGroup(lab, 'named-by-uid-alt');
    const b = await openGroup(lab, 'exempt-named-by-uid', EXEMPT);
    const event = eventFor('securityhub-v2-ocsf-compliance.json', MEMBER, { 'IAM.15': 'EC2.13', 'securityhub-iam-password-policy-1f9b2c7d': 'securityhub-restricted-ssh-1f9b2c7d' });
    (firstFinding(event).compliance as Json).requirements = ['CIS AWS Foundations Benchmark v1.2.0/4.1'];
    (firstFinding(event).compliance as Json).standards = ['ruleset/cis-aws-foundations-benchmark/v/1.2.0'];
    firstFinding(event).resources = [
      {
        cloud_partition: 'aws',
        owner: { account: { uid: MEMBER } },
        region: REGION,
        type: 'AWS::EC2::SecurityGroup',
        uid: b,
        uid_alt: `arn:aws:ec2:${REGION}:${MEMBER}:security-group/${a}`,
      },
    ];
    const [beforeA, beforeB] = [await rulesOf(lab, a), await rulesOf(lab, b)];

    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(await rulesOf(lab, b)).toEqual(beforeB);
    expect(await rulesOf(lab, a)).toEqual(beforeA);
    expect(run).toMatchObject({ playbookId: 'revoke-unrestricted-admin-ingress', status: 'skipped', guard: { code: 'target-disputed' } });
    expect(run.summary).toContain(a);
    expect(run.summary).toContain(b);
  });
});

describe('case 2: a resource whose Type does not match its Id', () => {
  it('Type AwsIamRole with Id i-… (an exempt instance) and Details naming a role: the instance is not protected, isolated or changed', async () => {
    lab = await pipelineLab({ playbooks: playbooksFromYaml(GUARDDUTY_INSTANCES), settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER, { tags: EXEMPT });
    const event = eventFor('securityhub-imported-guardduty-ec2.json', MEMBER);
    (firstFinding(event).Resources as Json[])[0] = { Type: 'AwsIamRole', Id: instance.instanceId, Partition: 'aws', Region: REGION, Details: { AwsIamRole: { RoleName: instance.roleName } } };
    const before = await instanceState(lab, instance);

    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(await instanceState(lab, instance)).toEqual(before);
    expect(run).toMatchObject({ status: 'skipped', guard: { code: 'target-disputed' } });
    expect(run.summary).toContain('AwsIamRole');
    expect(run.summary).toContain(instance.instanceId);
    await recorded(lab, run);
  });
});

describe('case 3: the change limit counts the resolved target, never the finding’s Resource.Id', () => {
  it('three findings sharing one ARN (an Auto Scaling group’s) whose Details name three instances, limit 1: at most one instance changes', async () => {
    const playbooks = playbooksFromYaml(`
id: protect-compromised
title: Protect compromised instances from termination
triggers: { automatic: true }
match:
  product.id: guardduty
  resource.type: AwsEc2Instance
steps:
  - ec2.enable-termination-protection: {}
limits: { maxResourcesPerHour: 1 }
`);
    lab = await pipelineLab({ playbooks, settings: { automatic: 'enforce' } });
    const shared = `arn:aws:autoscaling:${REGION}:${MEMBER}:autoScalingGroup:0b5f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d:autoScalingGroupName/web-fleet`;
    const instances = [
      await compromisedInstance(lab.clients, MEMBER, { suffix: '-a' }),
      await compromisedInstance(lab.clients, MEMBER, { suffix: '-b' }),
      await compromisedInstance(lab.clients, MEMBER, { suffix: '-c' }),
    ];
    const runs: PlaybookRunResult[] = [];
    for (const [index, instance] of instances.entries()) {
      const event = eventFor('securityhub-imported-guardduty-ec2.json', MEMBER, { [FIXTURE_INSTANCE]: instance.instanceId, [FIXTURE_FINDING]: `${FIXTURE_FINDING.slice(0, -1)}${index}` });
      // The finding's own Id is the group's ARN; its Details name the instance.
      firstResource(event).Id = shared;
      ((firstResource(event).Details as Json).AwsEc2Instance as Json).InstanceId = instance.instanceId;
      runs.push(onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs));
    }

    const changed = (await Promise.all(instances.map((instance) => terminationProtected(lab as PipelineLab, instance.instanceId)))).filter(Boolean);
    expect(changed.length).toBeLessThanOrEqual(1);
    // Each finding's ARN names no instance while its Details name one: refused, nothing changed anywhere.
    expect(changed).toEqual([]);
    for (const run of runs) {
      expect(run).toMatchObject({ status: 'skipped', guard: { code: 'target-disputed' } });
      expect(run.summary).toContain(shared);
    }
  });
});

describe('case 4: iam.revoke-role-sessions acts only on the role of the instance’s current profile', () => {
  it('a GuardDuty event naming another workload’s instance profile, on an instance with none: no policy is put on the other workload’s role', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const other = await compromisedInstance(lab.clients, MEMBER, { suffix: '-batch' });
    const victim = await compromisedInstance(lab.clients, MEMBER, { suffix: '-victim' });
    await disassociateProfile(lab, victim.instanceId);
    const event = guardDutyEventFor(MEMBER, { ...victim, profileArn: other.profileArn });

    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(await revokePolicy(lab, other.roleName)).toBeUndefined();
    expect(await revokePolicy(lab, victim.roleName)).toBeUndefined();
    const revoke = run.steps.find((step) => step.action === 'iam.revoke-role-sessions' && step.phase === 'run');
    expect(revoke).toMatchObject({ status: 'compliant', changes: [] });
    expect(revoke?.summary).toContain('no role to revoke');
    // The rest of the response still acts on the instance itself, as AWS shows it.
    expect(((await instanceState(lab, victim)) as { terminationProtection: boolean }).terminationProtection).toBe(true);
  });

  it('a stale finding (the instance’s profile was removed after detection): the role it named is left alone', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const event = guardDutyEventFor(MEMBER, instance);
    await disassociateProfile(lab, instance.instanceId);

    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(await revokePolicy(lab, instance.roleName)).toBeUndefined();
    expect(run.steps.find((step) => step.action === 'iam.revoke-role-sessions' && step.phase === 'run')?.summary).toContain('no role to revoke');
  });

  it('a stale finding (the profile was replaced after detection): only the current profile’s role is revoked', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const replacement = await compromisedInstance(lab.clients, MEMBER, { suffix: '-new' });
    const event = guardDutyEventFor(MEMBER, instance);
    // The instance's profile is now the one the replacement workload uses (the finding still names the old one).
    const ec2 = ec2Of(lab);
    await disassociateProfile(lab, replacement.instanceId);
    const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] }));
    await ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: IamInstanceProfileAssociations?.[0]?.AssociationId, IamInstanceProfile: { Arn: replacement.profileArn } }));

    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(run.status).toBe('succeeded');
    expect(await revokePolicy(lab, replacement.roleName)).toBeDefined();
    expect(await revokePolicy(lab, instance.roleName)).toBeUndefined();
    expect(lab.logs.entries.some((entry) => entry.message === 'the finding is stale: acting on what AWS shows now' && String(entry.attributes.note).includes(replacement.profileArn))).toBe(true);
  });
});

describe('stale findings: a resource AWS no longer shows', () => {
  it('a GuardDuty finding about an instance that does not exist: recorded as stale, nothing changed', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const event = eventFor('guardduty-ec2-backdoor.json', MEMBER, { [FIXTURE_INSTANCE]: 'i-0fedcba9876543210' });

    const run = onlyRun((await lab.pipeline.handleEvent(event)).findings[0]?.runs);

    expect(run).toMatchObject({ status: 'skipped', guard: { code: 'target-stale' } });
    expect(run.summary).toContain('i-0fedcba9876543210');
    await recorded(lab, run);
  });
});

describe('stale findings: a state AWS no longer shows', () => {
  it('a finding reporting SSH open to the internet on a group whose rule is already gone: recorded as stale, nothing changed', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const groupId = await openGroup(lab, 'closed-since-detection');
    await ec2Of(lab).send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [SSH_FROM_ANYWHERE] }));
    const before = await rulesOf(lab, groupId);

    const run = onlyRun((await lab.pipeline.handleEvent(eventFor('securityhub-imported-open-ssh.json', MEMBER, { [FIXTURE_GROUP]: groupId }))).findings[0]?.runs);

    expect(await rulesOf(lab, groupId)).toEqual(before);
    expect(run).toMatchObject({ playbookId: 'revoke-unrestricted-admin-ingress', status: 'succeeded' });
    expect(run.summary).toMatch(/^stale: the finding reports a failed check that AWS no longer shows/);
    expect(((await lab.ledger.getRun(run.runId as string)) as RunRecord).outcome?.summary).toBe(run.summary);
  });
});

describe('case 8: sample findings never change anything unless a playbook opts in', () => {
  const sampleOf = (event: Json): Json => {
    ((event.detail as Json).service as Json).additionalInfo = { sample: true };
    return event;
  };

  it('a HIGH GuardDuty finding with service.additionalInfo.sample: true runs as plan only, with the reason recorded', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const before = await instanceState(lab, instance);

    const run = onlyRun((await lab.pipeline.handleEvent(sampleOf(guardDutyEventFor(MEMBER, instance)))).findings[0]?.runs);

    expect(await instanceState(lab, instance)).toEqual(before);
    expect(await revokePolicy(lab, instance.roleName)).toBeUndefined();
    expect(run).toMatchObject({ playbookId: 'ec2-compromise-isolate', status: 'succeeded', mode: 'plan', modeReason: expect.stringContaining('sample') });
    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(record.mode).toBe('plan');
    expect(record.steps.every((step) => step.phase === 'plan')).toBe(true);
  });

  it('runs for real with allowSampleFindings: true', async () => {
    const playbooks = playbooksFromYaml(`
id: protect-even-samples
title: Protect instances, samples included (a test account)
triggers: { automatic: true }
allowSampleFindings: true
match:
  product.id: guardduty
  resource.type: AwsEc2Instance
steps:
  - ec2.enable-termination-protection: {}
`);
    lab = await pipelineLab({ playbooks, settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);

    const run = onlyRun((await lab.pipeline.handleEvent(sampleOf(guardDutyEventFor(MEMBER, instance)))).findings[0]?.runs);

    expect(run).toMatchObject({ status: 'succeeded', mode: 'enforce' });
    expect(await terminationProtected(lab, instance.instanceId)).toBe(true);
  });
});

describe('case 5: product identity comes only from AWS-owned ARNs, never from names', () => {
  /** The OCSF GuardDuty detection fixture, about `instance`, with the product as given. */
  function ocsfDetection(instance: CompromisedInstance, product: Json): Json {
    const event = eventFor('securityhub-v2-ocsf-detection.json', MEMBER, { [FIXTURE_INSTANCE]: instance.instanceId });
    (firstFinding(event).metadata as Json).product = product;
    return event;
  }

  it.each([
    ['metadata.product.name "GuardDuty" and no uid', { name: 'GuardDuty', vendor_name: 'AWS' }],
    ['a uid ending /aws/guardduty in the member account', { name: 'GuardDuty', uid: `arn:aws:securityhub:${REGION}:${MEMBER}:productv2/aws/guardduty` }],
    ['a uid ending /aws/guardduty in another region', { name: 'GuardDuty', uid: 'arn:aws:securityhub:eu-west-1::productv2/aws/guardduty' }],
  ])('an OCSF finding with %s does not drive ec2-compromise-isolate: the instance is left as it was', async (_label, product) => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const before = await instanceState(lab, instance);

    const [finding] = (await lab.pipeline.handleEvent(ocsfDetection(instance, product))).findings;

    expect(finding?.runs).toEqual([]);
    expect(await instanceState(lab, instance)).toEqual(before);
  });

  it('(control) the same finding from GuardDuty’s own product uid drives ec2-compromise-isolate', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);

    const [finding] = (await lab.pipeline.handleEvent(ocsfDetection(instance, { name: 'GuardDuty', uid: `arn:aws:securityhub:${REGION}::productv2/aws/guardduty`, vendor_name: 'AWS' }))).findings;

    expect(finding?.runs.map((run) => run.playbookId)).toEqual(['ec2-compromise-isolate']);
    expect(await terminationProtected(lab, instance.instanceId)).toBe(true);
  });

  /** The open-SSH control finding, imported into the member account's own default product (as anyone with securityhub:BatchImportFindings there can). */
  function defaultProductFinding(groupId: string, keepCompliance: boolean): Json {
    const event = eventFor('securityhub-imported-open-ssh.json', MEMBER, { [FIXTURE_GROUP]: groupId });
    const finding = firstFinding(event);
    finding.ProductArn = `arn:aws:securityhub:${REGION}:${MEMBER}:product/${MEMBER}/default`;
    finding.ProductName = 'Default';
    finding.CompanyName = 'Personal';
    finding.ProductFields = { ControlId: 'EC2.13', StandardsControlArn: `arn:aws:securityhub:${REGION}:${MEMBER}:control/cis-aws-foundations-benchmark/v/1.2.0/4.1` };
    if (!keepCompliance) finding.Compliance = { Status: 'FAILED' };
    return event;
  }

  it.each([
    ['ProductFields.ControlId: EC2.13 only', false],
    ['ProductFields.ControlId and Compliance.SecurityControlId: EC2.13', true],
  ])('an ASFF finding from the account’s own default product with %s does not drive revoke-unrestricted-admin-ingress: the group keeps its rule', async (_label, keepCompliance) => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const groupId = await openGroup(lab, 'claimed-by-default-product');
    const before = await rulesOf(lab, groupId);

    const [finding] = (await lab.pipeline.handleEvent(defaultProductFinding(groupId, keepCompliance))).findings;

    expect(finding?.runs).toEqual([]);
    expect(await rulesOf(lab, groupId)).toEqual(before);
    expect(opensSsh(await rulesOf(lab, groupId))).toBe(true);
  });
});

describe('case 6: the loop guard recognises only what Riposte wrote', () => {
  const RUN_ID = 'r-20250314T093105Z-4c1f7a9e2b3d';

  /** A run the ledger holds, as the one that wrote the fixtures' note. */
  async function knownRun(current: PipelineLab): Promise<void> {
    await current.ledger.startRun({
      runId: RUN_ID,
      correlationId: 'corr-earlier',
      findingId: 'earlier',
      playbookId: 'cis-password-policy',
      account: MEMBER,
      region: REGION,
      trigger: 'automatic',
      mode: 'enforce',
      receivedEvent: {},
    });
  }

  it('OCSF: after Riposte’s comment (which carries no time), a later provider update of the finding is acted on again', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    await knownRun(lab);
    const iam = iamOf(lab);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));
    const event = eventFor('securityhub-v2-ocsf-riposte-comment.json', MEMBER);
    // The control failed again after Riposte's run: the provider moved the finding's modified time past it.
    Object.assign(firstFinding(event).finding_info as Json, { modified_time_dt: '2025-03-15T10:00:00.000Z', modified_time: Date.parse('2025-03-15T10:00:00.000Z') });

    const [finding] = (await lab.pipeline.handleEvent(event)).findings;

    expect(finding?.skipped).toBeUndefined();
    expect(finding?.runs.map((run) => [run.playbookId, run.status])).toEqual([['cis-password-policy', 'succeeded']]);
    expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength).toBe(14);
  });

  it('ASFF: a crafted Note.UpdatedBy: riposte without Riposte’s header is not taken for Riposte’s own: the finding is acted on', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    await knownRun(lab);
    const iam = iamOf(lab);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));
    const event = eventFor('securityhub-imported-cis-password-policy.json', MEMBER);
    firstFinding(event).Note = { Text: `handled by riposte, run ${RUN_ID}`, UpdatedBy: 'riposte', UpdatedAt: '2099-01-01T00:00:00.000Z' };

    const [finding] = (await lab.pipeline.handleEvent(event)).findings;

    expect(finding?.skipped).toBeUndefined();
    expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength).toBe(14);
  });

  it('ASFF: a header naming a run the ledger does not hold is not Riposte’s own', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const event = eventFor('securityhub-imported-riposte-own-note.json', MEMBER);

    const [finding] = (await lab.pipeline.handleEvent(event)).findings;

    expect(finding?.skipped).toBeUndefined();
  });
});
