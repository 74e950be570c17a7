import { CreateTagsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';

import { builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { collectEvidence, collectEvidenceBehaviour } from '../../src/actions/ssm-collect-evidence.js';
import { actionContext } from '../support/action-context.js';
import { emulatorData, resetEmulator } from '../support/emulator.js';

/*
 * The forensic instance profile as the member template defines it, created in moto's IAM from the
 * template's own documents (its Ref and Fn::Sub resolved with the stack's parameters, as CloudFormation
 * would), then attached by ssm.collect-evidence under its default name. moto stores policies and does
 * not evaluate them: what is shown is that IAM accepts the documents and that the step's default
 * profile name resolves to the template's profile and role.
 */

const MEMBER = '222222222222';
const HOSTING = '111111111111';
const PING_TAG = 'riposte-emulator:ssm-ping-status';

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, Json>;
}

/** Resolves `Ref` and `Fn::Sub` (with `${!…}` kept literal) from the stack's parameters and pseudo parameters. */
function resolve(value: Json, parameters: Readonly<Record<string, string>>): Json {
  if (Array.isArray(value)) return value.map((item) => resolve(item, parameters));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, Json>;
  if (typeof object.Ref === 'string') return parameters[object.Ref] ?? expect.fail(`unresolved Ref ${object.Ref}`);
  if (typeof object['Fn::Sub'] === 'string')
    return object['Fn::Sub'].replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => (literal === '!' ? `\${${name}}` : (parameters[name] ?? expect.fail(`unresolved \${${name}}`))));
  return Object.fromEntries(Object.entries(object).map(([key, entry]) => [key, resolve(entry, parameters)]));
}

const base = (): ActionContext => actionContext('guardduty-ec2-backdoor.json', MEMBER);
const iam = (ctx: ActionContext) => ctx.clients.create(IAMClient, ctx.target);
const ec2 = (ctx: ActionContext) => ctx.clients.create(EC2Client, ctx.target);

describe('the member template’s forensic instance profile in the emulator’s IAM', () => {
  beforeEach(async () => {
    await resetEmulator();
  });

  it('is created from the template’s documents, and is what ssm.collect-evidence attaches by default', async () => {
    const ctx = base();
    const template = memberRoleTemplate(builtInActions(), { roleRegion: ctx.target.region }) as { Parameters: Record<string, { Default?: string }>; Resources: Record<string, Resource> };
    const parameters: Record<string, string> = {
      'AWS::Partition': ctx.target.partition,
      'AWS::AccountId': MEMBER,
      'AWS::Region': ctx.target.region,
      RiposteAccountId: HOSTING,
      ForensicProfileName: template.Parameters.ForensicProfileName?.Default as string,
      EvidenceBucketNamePrefix: template.Parameters.EvidenceBucketNamePrefix?.Default as string,
    };
    const role = resolve(template.Resources.ForensicCollectionRole?.Properties, parameters) as {
      RoleName: string;
      AssumeRolePolicyDocument: Json;
      Policies: Array<{ PolicyName: string; PolicyDocument: Json }>;
    };
    const profile = template.Resources.ForensicCollectionProfile?.Properties as { InstanceProfileName: Json };
    const profileName = resolve(profile.InstanceProfileName, parameters) as string;

    await iam(ctx).send(new CreateRoleCommand({ RoleName: role.RoleName, AssumeRolePolicyDocument: JSON.stringify(role.AssumeRolePolicyDocument) }));
    for (const policy of role.Policies)
      await iam(ctx).send(new PutRolePolicyCommand({ RoleName: role.RoleName, PolicyName: policy.PolicyName, PolicyDocument: JSON.stringify(policy.PolicyDocument) }));
    await iam(ctx).send(new CreateInstanceProfileCommand({ InstanceProfileName: profileName }));
    await iam(ctx).send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: role.RoleName }));

    // Read back: the profile holds only the role, whose policy is the template's, with the bucket names resolved.
    const { InstanceProfile } = await iam(ctx).send(new GetInstanceProfileCommand({ InstanceProfileName: collectEvidence.params.parse({}).instanceProfile }));
    expect(InstanceProfile?.Roles?.map((held) => held.RoleName)).toEqual(['RiposteForensicCollection']);
    const stored = await iam(ctx).send(new GetRolePolicyCommand({ RoleName: 'RiposteForensicCollection', PolicyName: 'riposte-forensic-collection' }));
    const document = JSON.parse(decodeURIComponent(stored.PolicyDocument as string)) as { Statement: Array<{ Sid: string; Resource: unknown }> };
    expect(document.Statement.find((entry) => entry.Sid === 'RunCommandOutputToEvidence')?.Resource).toBe(`arn:aws:s3:::riposte-evidence-${HOSTING}-*/evidence/${MEMBER}/*`);

    // ssm.collect-evidence with its defaults attaches that profile for the command.
    await ctx.hosting.factory.create(S3Client, {}, { forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: ctx.hosting.evidenceBucket }));
    const { Instances } = await ec2(ctx).send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
    const instanceId = Instances?.[0]?.InstanceId as string;
    await ec2(ctx).send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: PING_TAG, Value: 'Online' }] }));
    const on = { ...ctx, resource: { ...ctx.resource, instanceId } };

    await collectEvidenceBehaviour({ pollIntervalMs: 10 }).run(on, collectEvidence.params.parse({ commands: ['#riposte-emulator: stdout ok'] }));

    const data = (await emulatorData()) as { ssm?: { Command?: Array<{ riposte_instance_profiles: Record<string, string | null> }> } };
    expect(data.ssm?.Command?.map((command) => command.riposte_instance_profiles)).toEqual([{ [instanceId]: InstanceProfile?.Arn }]);
    expect(InstanceProfile?.Arn).toBe(`arn:aws:iam::${MEMBER}:instance-profile/RiposteForensicCollection`);
  });
});
