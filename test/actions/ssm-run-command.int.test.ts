import { createHash } from 'node:crypto';

import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, InvocationDoesNotExist, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { InstanceNotFoundError, SsmCommandFailedError } from '../../src/actions/index.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { evidenceKeyOf, runCommand, runCommandBehaviour, type CommandEvidence } from '../../src/actions/ssm-run-command.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';

const MEMBER = '222222222222';
const BUCKET = 'riposte-evidence-test';
const INSTANCE = 'i-0a1b2c3d4e5f60718';
const COMMAND_ID = '3f2c8a8e-1b7d-4c1e-9a43-0d5e6f7a8b9c';

const registered = runCommand.behaviour;
/** The same behaviour, polling every 10 ms instead of every 2 s. */
const fast = runCommandBehaviour({ pollIntervalMs: 10 });

const onInstance = (instanceId: string | undefined): ActionContext => {
  const base = actionContext('guardduty-ec2-backdoor.json', MEMBER);
  return { ...base, resource: { ...base.resource, instanceId } };
};
const hostingS3 = (ctx: ActionContext): S3Client => ctx.hosting.factory.create(S3Client, {}, { forcePathStyle: true });
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function readObject(ctx: ActionContext, key: string): Promise<{ bytes: Uint8Array; metadata: Record<string, string> }> {
  const response = await hostingS3(ctx).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { bytes: (await response.Body?.transformToByteArray()) ?? new Uint8Array(), metadata: response.Metadata ?? {} };
}

async function keysIn(ctx: ActionContext): Promise<string[]> {
  const { Contents } = await hostingS3(ctx).send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (Contents ?? []).map((object) => object.Key as string).sort();
}

describe('ssm.run-command, with the evidence bucket on the emulator in the hosting account', () => {
  // Emulator gap: moto 5.2.1 does not implement SSM DescribeInstanceInformation, and its
  // SendCommand/GetCommandInvocation "succeed" with empty output for any instance id, so no
  // managed/unmanaged instance or real command result can be set up there. SSMClient is mocked
  // (aws-sdk-client-mock) and the exact requests asserted; the evidence goes to moto's S3 and
  // is read back from there.
  const ssm = mockClient(SSMClient);
  afterEach(() => ssm.reset());
  // The mock replaces the client class's send for the whole worker, whose later test files (not isolated) use the real one.
  afterAll(() => ssm.restore());
  beforeEach(async () => {
    await resetEmulator();
    await hostingS3(onInstance(INSTANCE)).send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  const managed = (): void => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'Online', PlatformType: 'Linux' }] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND_ID, Status: 'Pending' } });
  };

  it('runs the commands on a managed instance, stores the output with its SHA-256, verifies, and sends nothing the second time', async () => {
    managed();
    ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(new InvocationDoesNotExist({ message: 'not yet', $metadata: {} }))
      .resolvesOnce({ CommandId: COMMAND_ID, InstanceId: INSTANCE, Status: 'InProgress' })
      .resolves({
        CommandId: COMMAND_ID,
        InstanceId: INSTANCE,
        Status: 'Success',
        StatusDetails: 'Success',
        ResponseCode: 0,
        StandardOutputContent: 'root 1 0.0 /sbin/init\n',
        StandardErrorContent: '',
      });
    const ctx = onInstance(INSTANCE);
    const wanted = runCommand.params.parse({ commands: ['ps auxww', 'ss -tanp'] });
    const key = evidenceKeyOf(ctx, INSTANCE, wanted);
    expect(key).toMatch(new RegExp(`^evidence/${MEMBER}/${INSTANCE}/r-test/ssm-[0-9a-f]{16}\\.json$`));

    const plan = await registered.plan(ctx, wanted);
    expect(plan).toMatchObject({ compliant: false, resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/${INSTANCE}` });
    expect(plan.summary).toContain('would run AWS-RunShellScript');
    expect(plan.summary).toContain('ps auxww; ss -tanp');
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(await registered.verify(ctx, wanted)).toMatchObject({ compliant: false });

    const outcome = await fast.run(ctx, wanted);

    expect(ssm.commandCalls(DescribeInstanceInformationCommand).map((call) => call.args[0].input)[0]).toEqual({ Filters: [{ Key: 'InstanceIds', Values: [INSTANCE] }] });
    expect(ssm.commandCalls(SendCommandCommand).map((call) => call.args[0].input)).toEqual([
      {
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [INSTANCE],
        Parameters: { commands: ['ps auxww', 'ss -tanp'] },
        TimeoutSeconds: 600,
        Comment: 'riposte run r-test',
      },
    ]);
    expect(ssm.commandCalls(GetCommandInvocationCommand).map((call) => call.args[0].input)).toEqual(Array(3).fill({ CommandId: COMMAND_ID, InstanceId: INSTANCE }));

    const object = await readObject(ctx, key);
    const digest = sha256(object.bytes);
    expect(outcome).toMatchObject({ changed: true, changes: [{ field: 'evidence.ssm-run-command', from: null, to: { key, sha256: digest } }] });
    expect(outcome.summary).toContain(COMMAND_ID);
    expect(object.metadata.sha256).toBe(digest);
    expect(
      Buffer.from((await readObject(ctx, `${key}.sha256`)).bytes)
        .toString('utf8')
        .split(/\s+/)[0],
    ).toBe(digest);
    const stored = JSON.parse(Buffer.from(object.bytes).toString('utf8')) as { account: string; instanceId: string; runId: string; data: CommandEvidence };
    expect(stored).toMatchObject({ account: MEMBER, instanceId: INSTANCE, runId: 'r-test' });
    expect(stored.data).toEqual({
      document: 'AWS-RunShellScript',
      commands: ['ps auxww', 'ss -tanp'],
      commandId: COMMAND_ID,
      status: 'Success',
      statusDetails: 'Success',
      responseCode: 0,
      standardOutput: 'root 1 0.0 /sbin/init\n',
      standardError: '',
    });

    expect(await registered.verify(ctx, wanted)).toMatchObject({ compliant: true });
    expect((await registered.plan(ctx, wanted)).compliant).toBe(true);

    const second = await registered.run(ctx, wanted);
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(1);

    await hostingS3(ctx).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{"data":{}}\n' }));
    expect(await registered.verify(ctx, wanted)).toMatchObject({ compliant: false });
  });

  it('skips an instance Systems Manager does not manage, sending nothing and failing nothing', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const ctx = onInstance(INSTANCE);
    const wanted = runCommand.params.parse({ commands: ['uname -a'] });

    const outcome = await registered.run(ctx, wanted);

    expect(outcome).toMatchObject({ changed: false, changes: [] });
    expect(outcome.summary).toMatch(/^not managed by Systems Manager: skipped \(i-0a1b2c3d4e5f60718 is not registered with Systems Manager\)$/);
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(ssm.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
    expect(await keysIn(ctx)).toEqual([]);
    expect((await registered.plan(ctx, wanted)).summary).toContain('not managed by Systems Manager: would skip');
  });

  it('skips an instance whose agent is not Online', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'ConnectionLost' }] });

    const outcome = await registered.run(onInstance(INSTANCE), runCommand.params.parse({ commands: ['uname -a'] }));

    expect(outcome).toMatchObject({ changed: false, summary: `not managed by Systems Manager: skipped (${INSTANCE}'s SSM agent is ConnectionLost)` });
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  it('stores the output of a failed command, then throws SsmCommandFailedError naming the status and command id', async () => {
    managed();
    ssm
      .on(GetCommandInvocationCommand)
      .resolves({ CommandId: COMMAND_ID, InstanceId: INSTANCE, Status: 'Failed', ResponseCode: 127, StandardOutputContent: '', StandardErrorContent: 'sh: ss: not found\n' });
    const ctx = onInstance(INSTANCE);
    const wanted = runCommand.params.parse({ commands: ['ss -tanp'] });
    const key = evidenceKeyOf(ctx, INSTANCE, wanted);

    const error: unknown = await registered.run(ctx, wanted).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SsmCommandFailedError);
    expect(error).toMatchObject({
      code: 'SSM_COMMAND_FAILED',
      commandId: COMMAND_ID,
      status: 'Failed',
      retryable: false,
      context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/${INSTANCE}`, step: 'ssm.run-command', commandId: COMMAND_ID, status: 'Failed' },
    });
    expect((error as Error).message).toContain(`command ${COMMAND_ID} on ${INSTANCE} ended Failed (response code 127)`);
    const object = await readObject(ctx, key);
    expect(object.metadata.sha256).toBe(sha256(object.bytes));
    expect((JSON.parse(Buffer.from(object.bytes).toString('utf8')) as { data: CommandEvidence }).data).toMatchObject({ status: 'Failed', responseCode: 127, standardError: 'sh: ss: not found\n' });

    // Run again: still a failure, and nothing sent again.
    await expect(registered.run(ctx, wanted)).rejects.toBeInstanceOf(SsmCommandFailedError);
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(1);
  });

  it('reports a command still running after waitSeconds, and waits for that same command on the next run', async () => {
    managed();
    ssm.on(GetCommandInvocationCommand).resolves({ CommandId: COMMAND_ID, InstanceId: INSTANCE, Status: 'InProgress' });
    const ctx = onInstance(INSTANCE);
    const wanted = runCommand.params.parse({ commands: ['find / -xdev -newer /etc/passwd'], waitSeconds: 1 });
    const key = evidenceKeyOf(ctx, INSTANCE, wanted);

    const outcome = await fast.run(ctx, wanted);

    expect(outcome).toMatchObject({
      changed: true,
      summary: `still running after 1s: command ${COMMAND_ID}`,
      changes: [{ field: 'command', from: null, to: { commandId: COMMAND_ID, status: 'InProgress' } }],
      inProgress: { detail: `command ${COMMAND_ID} on ${INSTANCE} is InProgress`, checkAfterSeconds: 30 },
    });
    expect(ssm.commandCalls(GetCommandInvocationCommand).length).toBeGreaterThan(1);
    expect(await keysIn(ctx)).toEqual([key.replace(/\.json$/, '.sent.json')]); // no output yet, only the command id

    ssm.on(GetCommandInvocationCommand).resolves({ CommandId: COMMAND_ID, InstanceId: INSTANCE, Status: 'Success', ResponseCode: 0, StandardOutputContent: '/etc/shadow\n' });
    const resumed = await fast.run(ctx, wanted);

    expect(resumed.changed).toBe(true);
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect((JSON.parse(Buffer.from((await readObject(ctx, key)).bytes).toString('utf8')) as { data: CommandEvidence }).data).toMatchObject({ commandId: COMMAND_ID, status: 'Success' });
  });

  it('throws InstanceNotFoundError when the finding names no instance, and calls nothing', async () => {
    const ctx = onInstance(undefined);

    const error: unknown = await registered.run(ctx, runCommand.params.parse({ commands: ['uname -a'] })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InstanceNotFoundError);
    expect(error).toMatchObject({ code: 'EC2_INSTANCE_NOT_FOUND', context: { account: MEMBER, region: 'us-east-1', step: 'ssm.run-command' } });
    expect(ssm.calls()).toHaveLength(0);
  });
});
