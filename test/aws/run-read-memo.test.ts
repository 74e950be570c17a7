import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';

import { AwsClientFactory, withRunReadMemo } from '../../src/aws/index.js';
import { runReadMemoPlugin } from '../../src/aws/run-read-memo.js';
import { AwsReplay, REPLAY_HOSTING_CREDENTIALS, type ReplayWorld } from '../../src/cli/aws-replay.js';

/*
 * Reads shared within a run until its first change: counted by the replay,
 * which records every call that reaches it (the memo sits before it).
 */

const INSTANCE = { InstanceId: 'i-0a1b2c3d4e5f60718', State: { Name: 'running' }, Tags: [{ Key: 'Name', Value: 'web' }] };

function ec2Of(world: ReplayWorld): { replay: AwsReplay; ec2: EC2Client } {
  const replay = new AwsReplay(world);
  const factory = new AwsClientFactory({ region: 'us-east-1', maxAttempts: 1 }, { credentials: REPLAY_HOSTING_CREDENTIALS, plugins: [replay.plugin] });
  const ec2 = factory.create(EC2Client);
  ec2.middlewareStack.use(runReadMemoPlugin('EC2Client/aws/111122223333/us-east-1'));
  return { replay, ec2 };
}

const WORLD: ReplayWorld = {
  answers: [
    { call: 'ec2:DescribeInstances', output: { Reservations: [{ Instances: [INSTANCE] }] } },
    { call: 'ec2:DescribeSecurityGroups', output: { SecurityGroups: [] } },
    { call: 'ec2:ModifyInstanceAttribute', output: {} },
  ],
};
const describeInstance = () => new DescribeInstancesCommand({ InstanceIds: ['i-0a1b2c3d4e5f60718'] });
const calls = (replay: AwsReplay) => replay.calls.map((call) => call.call);

describe('withRunReadMemo: one answer per read until the run changes something', () => {
  it('outside a run nothing is shared: the same read twice is two calls', async () => {
    const { replay, ec2 } = replayedEc2();

    await ec2.send(describeInstance());
    await ec2.send(describeInstance());

    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });

  it('within a run, the same read (parameters in any key order) is sent once; each caller gets its own copy of the answer', async () => {
    const { replay, ec2 } = replayedEc2();

    const [first, second, third] = await withRunReadMemo(async () => [
      await ec2.send(describeInstance()),
      await ec2.send(describeInstance()),
      await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0a1b2c3d4e5f60718'], DryRun: undefined })),
    ]);
    first?.Reservations?.[0]?.Instances?.[0]?.Tags?.push({ Key: 'edited', Value: 'by the first caller' });

    expect(calls(replay)).toEqual(['ec2:DescribeInstances']);
    expect(second?.Reservations?.[0]?.Instances?.[0]?.Tags).toEqual([{ Key: 'Name', Value: 'web' }]);
    expect(third?.Reservations).toEqual(second?.Reservations);
  });

  it('concurrent reads of the same thing share one call; different parameters are different reads', async () => {
    const { replay, ec2 } = replayedEc2();

    await withRunReadMemo(() => Promise.all([ec2.send(describeInstance()), ec2.send(describeInstance()), ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000000b'] }))]));

    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:DescribeInstances']);
    expect(replay.calls.map((call) => call.params)).toEqual([{ InstanceIds: ['i-0a1b2c3d4e5f60718'] }, { InstanceIds: ['i-0000000000000000b'] }]);
  });

  it('from the run’s first change on, every read goes to AWS: a verification reads what the change left, a wait sees progress', async () => {
    const { replay, ec2 } = replayedEc2();

    await withRunReadMemo(async () => {
      await ec2.send(describeInstance());
      await ec2.send(describeInstance());
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: 'i-0a1b2c3d4e5f60718', DisableApiTermination: { Value: true } }));
      await ec2.send(describeInstance());
      await ec2.send(describeInstance());
    });

    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:ModifyInstanceAttribute', 'ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });

  it('two runs share nothing, even at once', async () => {
    const { replay, ec2 } = replayedEc2();

    await Promise.all([withRunReadMemo(() => ec2.send(describeInstance())), withRunReadMemo(() => ec2.send(describeInstance()))]);

    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });

  it('a failed read is not shared: the next caller asks again', async () => {
    const { replay, ec2 } = ec2Of({ answers: [{ call: 'ec2:DescribeSecurityGroups', error: { name: 'RequestLimitExceeded', message: 'Request limit exceeded.' } }] });

    const outcomes = await withRunReadMemo(async () => [
      await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] })).catch((error: unknown) => (error as Error).name),
      await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] })).catch((error: unknown) => (error as Error).name),
    ]);

    expect(outcomes).toEqual(['RequestLimitExceeded', 'RequestLimitExceeded']);
    expect(calls(replay)).toEqual(['ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroups']);
  });
});

function replayedEc2(): { replay: AwsReplay; ec2: EC2Client } {
  return ec2Of(WORLD);
}
