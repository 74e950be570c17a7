import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client, ModifyInstanceAttributeCommand, StopInstancesCommand, type DescribeInstancesCommandOutput } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';

import { AwsClientFactory, withRunReadMemo, withStepReadMemo } from '../../src/aws/index.js';
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

/** The instance running, then stopped by the run's change (StopInstances). */
const STOP_WORLD: ReplayWorld = {
  answers: [
    { call: 'ec2:DescribeInstances', output: { Reservations: [{ Instances: [INSTANCE] }] } },
    { call: 'ec2:StopInstances', output: { StoppingInstances: [{ InstanceId: 'i-0a1b2c3d4e5f60718', CurrentState: { Name: 'stopping' } }] } },
    { call: 'ec2:DescribeInstances', output: { Reservations: [{ Instances: [{ ...INSTANCE, State: { Name: 'stopped' } }] }] } },
  ],
};
const stopInstance = () => new StopInstancesCommand({ InstanceIds: ['i-0a1b2c3d4e5f60718'] });
const stateOf = (answer: DescribeInstancesCommandOutput): string | undefined => answer.Reservations?.[0]?.Instances?.[0]?.State?.Name;

/** A promise one step opens and another waits on: orders two siblings' calls without timing. */
function gate(): { readonly opened: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('withStepReadMemo: steps side by side, each sharing the run’s answers until it changes something itself', () => {
  it('a step’s change does not close its sibling’s window: the sibling, reading after the change, still gets the answer read before the group', async () => {
    const { replay, ec2 } = ec2Of(STOP_WORLD);
    const stopped = gate();

    const [, siblingSaw] = await withRunReadMemo(async () => {
      await ec2.send(describeInstance()); // the plan's read
      return withStepReadMemo([
        async () => {
          await ec2.send(stopInstance());
          stopped.open();
          return undefined;
        },
        async () => {
          await stopped.opened;
          return stateOf(await ec2.send(describeInstance()));
        },
      ]);
    });

    expect(siblingSaw).toBe('running');
    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:StopInstances']);
  });

  it('the step that changes something shares answers up to its change, and reads live from then on (each read sent, the state its change left)', async () => {
    const { replay, ec2 } = ec2Of(STOP_WORLD);

    const [changer, sibling] = await withRunReadMemo(async () => {
      await ec2.send(describeInstance()); // the plan's read
      return withStepReadMemo([
        async () => {
          const before = stateOf(await ec2.send(describeInstance()));
          await ec2.send(stopInstance());
          return [before, stateOf(await ec2.send(describeInstance())), stateOf(await ec2.send(describeInstance()))];
        },
        async () => [stateOf(await ec2.send(describeInstance()))],
      ]);
    });

    expect(changer).toEqual(['running', 'stopped', 'stopped']);
    expect(sibling).toEqual(['running']);
    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:StopInstances', 'ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });

  it('once every step has ended, a change by any of them closes the run’s window: reads after the group go to AWS each time', async () => {
    const { replay, ec2 } = ec2Of(STOP_WORLD);

    const after = await withRunReadMemo(async () => {
      await ec2.send(describeInstance()); // the plan's read
      await withStepReadMemo([() => ec2.send(stopInstance()), () => ec2.send(describeInstance())]);
      return [stateOf(await ec2.send(describeInstance())), stateOf(await ec2.send(describeInstance()))];
    });

    expect(after).toEqual(['stopped', 'stopped']);
    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:StopInstances', 'ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });

  it('a group in which no step changes anything keeps the run’s window open: its reads and the reads after it share the plan’s answer', async () => {
    const { replay, ec2 } = ec2Of(STOP_WORLD);

    const states = await withRunReadMemo(async () => {
      await ec2.send(describeInstance()); // the plan's read
      const inGroup = await withStepReadMemo([async () => stateOf(await ec2.send(describeInstance())), async () => stateOf(await ec2.send(describeInstance()))]);
      return [...inGroup, stateOf(await ec2.send(describeInstance()))];
    });

    expect(states).toEqual(['running', 'running', 'running']);
    expect(calls(replay)).toEqual(['ec2:DescribeInstances']);
  });

  it('outside a run it only runs the steps: every read is sent, and the results come back in the steps’ order', async () => {
    const { replay, ec2 } = ec2Of(STOP_WORLD);

    const results = await withStepReadMemo([async () => `first: ${stateOf(await ec2.send(describeInstance()))}`, async () => `second: ${stateOf(await ec2.send(describeInstance()))}`]);

    expect(results).toEqual(['first: running', 'second: running']);
    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });

  it('when the run has already changed something it only runs the steps: every read is sent', async () => {
    const { replay, ec2 } = ec2Of(STOP_WORLD);

    const states = await withRunReadMemo(async () => {
      await ec2.send(describeInstance());
      await ec2.send(stopInstance());
      return withStepReadMemo([async () => stateOf(await ec2.send(describeInstance())), async () => stateOf(await ec2.send(describeInstance()))]);
    });

    expect(states).toEqual(['stopped', 'stopped']);
    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:StopInstances', 'ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });
});

describe('withRunReadMemo: failed reads', () => {
  const twoReads = (name: string) => {
    const { replay, ec2 } = ec2Of({ answers: [{ call: 'ec2:DescribeInstances', error: { name, message: `${name} (replayed)` } }] });
    const read = () =>
      ec2.send(describeInstance()).then(
        () => 'answered',
        (error: unknown) => (error as Error).name,
      );
    return { replay, outcomes: withRunReadMemo(async () => [await read(), await read()]) };
  };

  it.each(['InvalidInstanceID.NotFound', 'InvalidGroup.NotFound', 'NoSuchEntity', 'NoSuchEntityException', 'NoSuchKey', 'NotFound', 'ResourceNotFoundException'])(
    'a "not found" answer (%s) is the state, and is shared: the second reader gets it without a call',
    async (name) => {
      const { replay, outcomes } = twoReads(name);

      expect(await outcomes).toEqual([name, name]);
      expect(calls(replay)).toEqual(['ec2:DescribeInstances']);
    },
  );

  it.each(['ThrottlingException', 'ServiceUnavailable', 'InvalidInstanceID.Malformed'])('a failure that is not "not found" (%s) is not shared: the second reader asks again', async (name) => {
    const { replay, outcomes } = twoReads(name);

    expect(await outcomes).toEqual([name, name]);
    expect(calls(replay)).toEqual(['ec2:DescribeInstances', 'ec2:DescribeInstances']);
  });
});

function replayedEc2(): { replay: AwsReplay; ec2: EC2Client } {
  return ec2Of(WORLD);
}
