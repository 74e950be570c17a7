import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';

import { AwsClientFactory, checkMemberTarget, InvalidMemberTargetError, MemberClients, MemberCredentials, type MemberTarget } from '../../src/aws/index.js';
import { LruMap } from '../../src/aws/lru.js';
import { isKnownRegion, KNOWN_REGIONS, PARTITIONS, type Partition } from '../../src/aws-names.js';

// No call leaves this file: clients are made (their credentials are asked for only when a call is sent), and
// every refusal happens before any AssumeRole, which `assumeRoleCalls` shows.
const factory = new AwsClientFactory({ region: 'us-east-1', maxAttempts: 1 });
const SETTINGS = { roleName: 'RiposteMemberRole', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false };
const target = (region: string, account = '222222222222', partition: Partition = 'aws'): MemberTarget => ({ account, region, partition, correlationId: 'c-1' });

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('member targets: regions and accounts from findings', () => {
  it('refuses a region its partition does not have ("us-east-7"), naming it, before making a client', () => {
    const clients = new MemberClients(factory, new MemberCredentials(factory, SETTINGS));

    const error = thrown(() => clients.create(EC2Client, target('us-east-7')));

    expect(error).toBeInstanceOf(InvalidMemberTargetError);
    expect(error).toMatchObject({
      code: 'AWS_INVALID_MEMBER_TARGET',
      retryable: false,
      message: `region "us-east-7" is not a region of partition "aws" (one of ${KNOWN_REGIONS.aws.length} known): no client is made for it`,
      context: { account: '222222222222', region: 'us-east-7' },
    });
    expect(clients.cachedClients).toBe(0);
  });

  it('refuses a region of another partition (cn-north-1 in aws, us-east-1 in aws-us-gov)', () => {
    expect(() => checkMemberTarget(target('cn-north-1'))).toThrow(InvalidMemberTargetError);
    expect(() => checkMemberTarget(target('us-east-1', '222222222222', 'aws-us-gov'))).toThrow(InvalidMemberTargetError);
  });

  it('refuses a region before any AssumeRole', async () => {
    const credentials = new MemberCredentials(factory, SETTINGS);

    await expect(credentials.credentials(target('eu-west-1\u001b[2J'))).rejects.toBeInstanceOf(InvalidMemberTargetError);
    expect(credentials.assumeRoleCalls).toBe(0);
    expect(credentials.cachedSessions).toBe(0);
  });

  it('refuses an account that is not 12 digits, quoting at most 64 characters of it', () => {
    const error = thrown(() => checkMemberTarget(target('us-east-1', 'x'.repeat(10_000))));

    expect(error).toBeInstanceOf(InvalidMemberTargetError);
    expect((error as Error).message).toBe(`"${'x'.repeat(64)}…" is not an AWS account id (12 digits): nothing is done in it`);
  });

  it('makes no client and keeps nothing for 10,000 distinct made-up regions', () => {
    const clients = new MemberClients(factory, new MemberCredentials(factory, SETTINGS));

    for (let index = 0; index < 10_000; index += 1) expect(() => clients.create(EC2Client, target(`us-east-${index + 3}`))).toThrow(InvalidMemberTargetError);

    expect(clients.cachedClients).toBe(0);
  });

  it('takes every commercial, China and GovCloud region in its own partition', () => {
    for (const partition of PARTITIONS) {
      for (const region of KNOWN_REGIONS[partition]) expect(() => checkMemberTarget(target(region, '222222222222', partition))).not.toThrow();
    }
    expect(KNOWN_REGIONS['aws-cn']).toEqual(['cn-north-1', 'cn-northwest-1']);
    expect(KNOWN_REGIONS['aws-us-gov']).toEqual(['us-gov-east-1', 'us-gov-west-1']);
    expect(KNOWN_REGIONS.aws).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'ap-southeast-7', 'mx-central-1', 'ca-west-1', 'ap-east-2', 'ap-southeast-6']));
    expect(isKnownRegion('aws-iso', 'us-iso-east-1')).toBe(false);
  });

  it('lists every region of the SDK’s own partition table (@aws-sdk/core partitions.js)', () => {
    // The SDK resolves endpoints from this table; a region it gains on an upgrade must be added to KNOWN_REGIONS.
    const core = dirname(createRequire(import.meta.url).resolve('@aws-sdk/core/package.json'));
    const table = readFileSync(join(core, 'dist-es', 'submodules', 'client', 'util-endpoints', 'lib', 'aws', 'partitions.js'), 'utf8');
    const partitions = JSON.parse(table.slice(table.indexOf('{'), table.lastIndexOf('}') + 1)) as { partitions: Array<{ id: string; regions: Record<string, unknown> }> };
    for (const partition of PARTITIONS) {
      const sdk = Object.keys(partitions.partitions.find((entry) => entry.id === partition)?.regions ?? {}).filter((region) => !region.startsWith('aws-'));
      expect(sdk.length, partition).toBeGreaterThan(0);
      expect([...KNOWN_REGIONS[partition]].sort(), partition).toEqual(sdk.sort());
    }
  });
});

describe('MemberClients cache', () => {
  it('keeps at most maxClients clients, the least recently used forgotten first (5 accounts, room for 3)', () => {
    const clients = new MemberClients(factory, new MemberCredentials(factory, SETTINGS), { maxClients: 3 });
    const accounts = ['222222222222', '333333333333', '444444444444', '555555555555', '666666666666'];

    const first = clients.create(IAMClient, target('us-east-1', accounts[0]));
    clients.create(IAMClient, target('us-east-1', accounts[1]));
    clients.create(IAMClient, target('us-east-1', accounts[2]));
    expect(clients.create(IAMClient, target('us-east-1', accounts[0]))).toBe(first);
    clients.create(IAMClient, target('us-east-1', accounts[3]));
    clients.create(IAMClient, target('us-east-1', accounts[4]));

    expect(clients.cachedClients).toBe(3);
    // accounts[0] was used again before the others: it outlived accounts[1] and [2].
    expect(clients.create(IAMClient, target('us-east-1', accounts[0]))).toBe(first);
    expect(clients.cachedClients).toBe(3);
    clients.destroy();
  });
});

describe('LruMap', () => {
  it('forgets the least recently used entry past its capacity', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);

    expect(map.get('b')).toBeUndefined();
    expect([...map.values()]).toEqual([1, 3]);
    expect(map.size).toBe(2);
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});
