import { describe, expect, it } from 'vitest';

import { memberLiveView, type LiveView } from '../../src/actions/index.js';
import { AwsClientFactory, MemberClients, MemberCredentials, type MemberTarget } from '../../src/aws/index.js';
import { AwsReplay, REPLAY_HOSTING_CREDENTIALS, type ReplayWorld } from '../../src/cli/aws-replay.js';
import type { Resource } from '../../src/intake/index.js';

/*
 * The live view of an instance reads the profile the finding names beside
 * the association read, to save a round trip on the way to containment,
 * and trusts that answer only when AWS says that very profile is the one
 * associated now. Answered by the replay, each answer taking 5 ms, so that
 * calls sent together share a round trip (AwsReplay.rounds).
 */

const ACCOUNT = '111122223333';
const INSTANCE_ID = 'i-0a1b2c3d4e5f60718';
const target: MemberTarget = { account: ACCOUNT, region: 'eu-west-1', partition: 'aws', correlationId: 'c-live-view' };

const profileArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
const roleArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const LIVE_PROFILE = profileArn('web-profile');
const STALE_PROFILE = profileArn('old-profile');

const profileAnswer = (name: string, role: string) => ({
  call: 'iam:GetInstanceProfile',
  input: { InstanceProfileName: name },
  output: {
    InstanceProfile: {
      InstanceProfileName: name,
      InstanceProfileId: 'AIPAEXAMPLE',
      Arn: profileArn(name),
      Path: '/',
      Roles: [{ RoleName: role, RoleId: 'AROAEXAMPLE', Arn: roleArn(role), Path: '/' }],
    },
  },
});

/** The instance, associated now with web-profile (role web-role); old-profile (role old-role) still exists, associated with nothing. */
const WORLD: ReplayWorld = {
  answers: [
    { call: 'ec2:DescribeInstances', output: { Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'running' }, Tags: [{ Key: 'Name', Value: 'web' }] }] }] } },
    {
      call: 'ec2:DescribeIamInstanceProfileAssociations',
      output: {
        IamInstanceProfileAssociations: [{ AssociationId: 'iip-assoc-0123456789abcdef0', InstanceId: INSTANCE_ID, State: 'associated', IamInstanceProfile: { Arn: LIVE_PROFILE, Id: 'AIPAEXAMPLE' } }],
      },
    },
    profileAnswer('web-profile', 'web-role'),
    profileAnswer('old-profile', 'old-role'),
  ],
};

/** The live view through member clients that use Riposte's own credentials in the account (no AssumeRole to count), over the replay. */
function liveView(world: ReplayWorld): { replay: AwsReplay; view: LiveView } {
  const replay = new AwsReplay(world, { latencyMs: 5 });
  const factory = new AwsClientFactory({ region: 'eu-west-1', maxAttempts: 1 }, { credentials: REPLAY_HOSTING_CREDENTIALS, plugins: [replay.plugin] });
  const clients = new MemberClients(
    factory,
    new MemberCredentials(factory, { roleName: 'RiposteMemberRole', sessionDurationSeconds: 900, hostingAccount: ACCOUNT, assumeRoleInHostingAccount: false }),
  );
  return { replay, view: memberLiveView(clients, target) };
}

/** The instance as a finding names it, with the instance profile it names (if any). */
const finding = (instanceProfileArn?: string): Resource => ({
  type: 'AwsEc2Instance',
  id: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${INSTANCE_ID}`,
  account: ACCOUNT,
  region: 'eu-west-1',
  partition: 'aws',
  instanceId: INSTANCE_ID,
  securityGroupIds: [],
  networkInterfaces: [],
  ...(instanceProfileArn === undefined ? {} : { iamRole: { instanceProfileArn } }),
});

/** Each call with its round trip, sorted (calls sent in one round may reach the replay in any order). */
const rounds = (replay: AwsReplay): string[] => replay.rounds.map(({ call, round }) => `${round} ${call}`).sort();
const profilesRead = (replay: AwsReplay): unknown[] => replay.calls.filter(({ call }) => call === 'iam:GetInstanceProfile').map(({ params }) => params);

const LIVE_FACTS = { arn: LIVE_PROFILE, associationId: 'iip-assoc-0123456789abcdef0', role: { name: 'web-role', arn: roleArn('web-role') } };

describe('memberLiveView.instance: the instance profile, read beside the association', () => {
  it('the finding names the associated profile: it is read once, in the same round trip as the association, and its role is the instance’s', async () => {
    const { replay, view } = liveView(WORLD);

    const facts = await view.instance(INSTANCE_ID, finding(LIVE_PROFILE));

    expect(facts?.profile).toEqual(LIVE_FACTS);
    expect(profilesRead(replay)).toEqual([{ InstanceProfileName: 'web-profile' }]);
    expect(rounds(replay)).toEqual(['1 ec2:DescribeIamInstanceProfileAssociations', '1 ec2:DescribeInstances', '1 iam:GetInstanceProfile']);
  });

  it('the finding names a profile no longer associated (stale): its answer is not used, the associated profile is read after the association and its role is the instance’s', async () => {
    const { replay, view } = liveView(WORLD);

    const facts = await view.instance(INSTANCE_ID, finding(STALE_PROFILE));

    expect(facts?.profile).toEqual(LIVE_FACTS);
    expect(profilesRead(replay)).toEqual([{ InstanceProfileName: 'old-profile' }, { InstanceProfileName: 'web-profile' }]);
    expect(rounds(replay)).toEqual(['1 ec2:DescribeIamInstanceProfileAssociations', '1 ec2:DescribeInstances', '1 iam:GetInstanceProfile', '2 iam:GetInstanceProfile']);
  });

  it('the finding names a profile since deleted (NoSuchEntity): the early read costs nothing, the associated profile is read and used', async () => {
    const world: ReplayWorld = {
      answers: [
        ...WORLD.answers.filter((answer) => answer.input?.InstanceProfileName !== 'old-profile'),
        { call: 'iam:GetInstanceProfile', input: { InstanceProfileName: 'old-profile' }, error: { name: 'NoSuchEntityException', message: 'Instance Profile old-profile cannot be found.' } },
      ],
    };
    const { replay, view } = liveView(world);

    const facts = await view.instance(INSTANCE_ID, finding(STALE_PROFILE));

    expect(facts?.profile).toEqual(LIVE_FACTS);
    expect(profilesRead(replay)).toEqual([{ InstanceProfileName: 'old-profile' }, { InstanceProfileName: 'web-profile' }]);
  });

  it('the finding names no profile: the associated profile is read once the association has answered (the round trip after it)', async () => {
    const { replay, view } = liveView(WORLD);

    const facts = await view.instance(INSTANCE_ID, finding());

    expect(facts?.profile).toEqual(LIVE_FACTS);
    expect(profilesRead(replay)).toEqual([{ InstanceProfileName: 'web-profile' }]);
    expect(rounds(replay)).toEqual(['1 ec2:DescribeIamInstanceProfileAssociations', '1 ec2:DescribeInstances', '2 iam:GetInstanceProfile']);
  });

  it('the finding names a profile but none is associated now: the instance has no profile, whatever the finding says', async () => {
    const world: ReplayWorld = {
      answers: WORLD.answers.map((answer) => (answer.call === 'ec2:DescribeIamInstanceProfileAssociations' ? { ...answer, output: { IamInstanceProfileAssociations: [] } } : answer)),
    };
    const { view } = liveView(world);

    const facts = await view.instance(INSTANCE_ID, finding(LIVE_PROFILE));

    expect(facts).toBeDefined();
    expect(facts?.profile).toBeUndefined();
  });
});
