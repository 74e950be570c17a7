import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';

import { AssumeRoleFailedError, AwsClientFactory, MemberClients, MemberCredentials, sessionNameFor, type MemberRoleSettings } from '../../src/aws/index.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { emulatorClientFactory } from '../support/emulator.js';

const SETTINGS: MemberRoleSettings = {
  roleName: 'RiposteMemberRole',
  externalId: 'riposte-test',
  sessionDurationSeconds: 900,
  hostingAccount: '123456789012',
  assumeRoleInHostingAccount: false,
};
const member = (account: string, correlationId = 'run-1') => ({ account, region: 'us-east-1', partition: 'aws' as const, correlationId });

describe('MemberCredentials and MemberClients', () => {
  it('acts in the member account through AssumeRole, leaving the hosting account alone', async () => {
    const factory = emulatorClientFactory();
    const clients = new MemberClients(factory, new MemberCredentials(factory, SETTINGS));

    const identity = await clients.create(STSClient, member('222222222222', 'corr-42')).send(new GetCallerIdentityCommand({}));
    await clients.create(IAMClient, member('222222222222')).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 21 }));

    expect(identity.Arn).toBe('arn:aws:sts::222222222222:assumed-role/RiposteMemberRole/riposte-corr-42');
    const inMember = await clients.create(IAMClient, member('222222222222')).send(new GetAccountPasswordPolicyCommand({}));
    expect(inMember.PasswordPolicy?.MinimumPasswordLength).toBe(21);
    // The hosting account (moto's default, 123456789012) has no policy.
    await expect(factory.create(IAMClient).send(new GetAccountPasswordPolicyCommand({}))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('makes one AssumeRole per account while the credentials are valid, even for concurrent callers', async () => {
    const factory = emulatorClientFactory();
    const credentials = new MemberCredentials(factory, SETTINGS);

    const all = await Promise.all(Array.from({ length: 25 }, (_, i) => credentials.credentials(member(i % 2 === 0 ? '222222222222' : '333333333333', `run-${i}`))));

    expect(credentials.assumeRoleCalls).toBe(2);
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(2);
  });

  it('renews credentials shortly before they expire', async () => {
    let now = Date.now();
    const factory = emulatorClientFactory();
    const credentials = new MemberCredentials(factory, SETTINGS, () => now);
    const first = await credentials.credentials(member('222222222222'));

    now = (first.expiration?.getTime() ?? now) - 6 * 60_000;
    await credentials.credentials(member('222222222222'));
    expect(credentials.assumeRoleCalls).toBe(1);

    now = (first.expiration?.getTime() ?? now) - 4 * 60_000;
    await credentials.credentials(member('222222222222'));
    expect(credentials.assumeRoleCalls).toBe(2);
  });

  it('uses its own credentials in the hosting account unless told to assume the role there too', async () => {
    const factory = emulatorClientFactory();
    const own = new MemberClients(factory, new MemberCredentials(factory, SETTINGS));
    const viaRole = new MemberClients(factory, new MemberCredentials(factory, { ...SETTINGS, assumeRoleInHostingAccount: true }));

    const direct = await own.create(STSClient, member('123456789012')).send(new GetCallerIdentityCommand({}));
    const assumed = await viaRole.create(STSClient, member('123456789012')).send(new GetCallerIdentityCommand({}));

    expect(direct.Arn).not.toContain('assumed-role');
    expect(assumed.Arn).toContain('assumed-role/RiposteMemberRole');
  });

  it('reports an STS failure as a typed, retryable error naming the role and account', async () => {
    const unreachable = new AwsClientFactory({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }, emulatorClientOptions());
    const credentials = new MemberCredentials(unreachable, SETTINGS);

    const error: unknown = await credentials.credentials(member('222222222222')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AssumeRoleFailedError);
    expect(error).toMatchObject({ retryable: true, context: { account: '222222222222', resource: 'arn:aws:iam::222222222222:role/RiposteMemberRole' } });
    // Failures are not cached: the next call tries again.
    await credentials.credentials(member('222222222222')).catch(() => undefined);
    expect(credentials.assumeRoleCalls).toBe(2);
  });

  it('bounds the calls in flight per account, each account on its own', async () => {
    const factory = emulatorClientFactory();
    const clients = new MemberClients(factory, new MemberCredentials(factory, SETTINGS), { maxConcurrentCallsPerAccount: 2 });
    let inFlight = 0;
    let most = 0;
    // Calls wait inside the client until as many are in flight as the bound allows (a gate, not a timer):
    // if the bound let more through, they would be in flight too before the gate opens.
    let expected = 2;
    let open: () => void = () => undefined;
    let gate = new Promise<void>((resolve) => (open = resolve));
    const measure = (account: string): STSClient => {
      const sts = clients.create(STSClient, member(account));
      sts.middlewareStack.add(
        (next) => async (args) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          if (inFlight >= expected) open();
          try {
            await gate;
            return await next(args);
          } finally {
            inFlight -= 1;
          }
        },
        { step: 'finalizeRequest', name: 'measureInFlight' },
      );
      return sts;
    };
    const one = measure('222222222222');

    await Promise.all(Array.from({ length: 10 }, () => one.send(new GetCallerIdentityCommand({}))));
    expect(most).toBe(2);

    most = 0;
    expected = 4;
    gate = new Promise<void>((resolve) => (open = resolve));
    const other = measure('333333333333');
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : other).send(new GetCallerIdentityCommand({}))));
    expect(most).toBe(4);
  });

  it('keeps at most maxSessions role sessions, forgetting the least recently used (3 accounts, room for 2)', async () => {
    const factory = emulatorClientFactory();
    const credentials = new MemberCredentials(factory, SETTINGS, Date.now, { maxSessions: 2 });

    await credentials.credentials(member('222222222222'));
    await credentials.credentials(member('333333333333'));
    await credentials.credentials(member('222222222222'));
    await credentials.credentials(member('444444444444'));

    expect(credentials.cachedSessions).toBe(2);
    expect(credentials.assumeRoleCalls).toBe(3);
    // 222… was used more recently than 333…: it is still cached; 333… was forgotten and is assumed again.
    await credentials.credentials(member('222222222222'));
    expect(credentials.assumeRoleCalls).toBe(3);
    await credentials.credentials(member('333333333333'));
    expect(credentials.assumeRoleCalls).toBe(4);
    expect(credentials.cachedSessions).toBe(2);
  });

  it('names role sessions after the run, within STS limits', () => {
    expect(sessionNameFor('r-7f3c/9a2e 1b')).toBe('riposte-r-7f3c-9a2e-1b');
    expect(sessionNameFor('x'.repeat(100))).toHaveLength(64);
  });
});
