import { AttachNetworkInterfaceCommand, CreateNetworkInterfaceCommand, CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { AdaptiveRetryStrategy, DefaultRateLimiter } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { isolateInstance } from '../../src/actions/ec2-isolate.js';
import {
  ActionFailedError,
  ActionNotReversibleError,
  ActionParamsInvalidError,
  InstanceNotFoundError,
  builtInActions,
  defineAction,
  runStep,
  rollbackStep,
  verifyStep,
} from '../../src/actions/index.js';
import { setPasswordPolicy } from '../../src/actions/iam-set-password-policy.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { AwsClientFactory, MemberClients, MemberCredentials, type ClientScope, type SdkClient, type SdkClientConstructor } from '../../src/aws/index.js';
import { emulatorClientOptions, EmulatorUnsupportedOperationError, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { actionContext } from '../support/action-context.js';
import { emulatorEndpoint, resetEmulator } from '../support/emulator.js';

const MEMBER = '222222222222';
const PASSWORD_FIXTURE = 'securityhub-imported-cis-password-policy.json';
const EC2_FIXTURE = 'guardduty-ec2-backdoor.json';
/** An AMI moto 5.2.1 ships. */
const AMI = 'ami-12c6146b';

/**
 * A factory whose clients retry as production's do — the SDK's adaptive
 * retry, with the factory's attempts — but never wait between attempts: the
 * tests count attempts and read the errors, while the SDK's backoff (half a
 * second and more after a throttle) and its rate limiter's pause (up to two
 * seconds once throttled) only made them slow.
 */
class NoWaitRetryClientFactory extends AwsClientFactory {
  override create<Client extends SdkClient, ClientConfig>(Client: SdkClientConstructor<Client, ClientConfig>, scope: ClientScope = {}, extra: Partial<ClientConfig> = {}): Client {
    const { maxAttempts } = this.settings;
    const retryStrategy = new AdaptiveRetryStrategy(maxAttempts, {
      maxAttempts,
      backoff: { computeNextBackoffDelay: () => 0, setDelayBase: () => undefined },
      rateLimiter: new DefaultRateLimiter({ minFillRate: 1_000_000 }),
    });
    return super.create(Client, scope, { retryStrategy, ...extra });
  }
}

/** Member clients through AssumeRole, as test/support/action-context.ts makes them, on `endpoint` with `maxAttempts` (no wait between them). */
function clientsOn(endpoint: string, maxAttempts: number): MemberClients {
  const factory = new NoWaitRetryClientFactory({ region: 'us-east-1', endpoint, maxAttempts }, emulatorClientOptions());
  return new MemberClients(
    factory,
    new MemberCredentials(factory, { roleName: 'RiposteMemberRole', externalId: 'riposte-test', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false, hostingAccount: '123456789012' }),
  );
}

const resourceOf = (ctx: ActionContext): string => ctx.resource.arn ?? ctx.resource.id;

/** An error as the SDK's deserializer makes one from an AWS error response. */
function awsError(name: string, httpStatusCode: number, message: string, throttling = false): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: 'client' as const,
    $metadata: { httpStatusCode, requestId: `req-${name}` },
    ...(throttling ? { $retryable: { throttling: true } } : {}),
  });
}

/**
 * Makes the member IAM client the action uses fail `command` `times` times
 * (every time when Infinity), inside the SDK's retry loop ('finalizeRequest'
 * runs once per attempt). Returns how many attempts reached it.
 */
function failIam(ctx: ActionContext, command: string, times: number, make: () => unknown): { attempts: number } {
  const seen = { attempts: 0 };
  ctx.clients.create(IAMClient, ctx.target).middlewareStack.add(
    (next, handlerContext) => async (args) => {
      if (handlerContext.commandName === command) {
        seen.attempts += 1;
        if (seen.attempts <= times) throw make();
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: `inject-${command}` },
  );
  return seen;
}

/** The policy as an untouched client (the worker's, no injection) reads it. */
async function readPolicy(): Promise<Record<string, unknown> | undefined> {
  const ctx = actionContext(PASSWORD_FIXTURE, MEMBER);
  try {
    return (await ctx.clients.create(IAMClient, ctx.target).send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy as Record<string, unknown> | undefined;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return undefined;
    throw error;
  }
}

/** A password-policy context on this worker's emulator whose clients retry up to 4 attempts. */
async function passwordContext(): Promise<ActionContext> {
  const ctx = { ...actionContext(PASSWORD_FIXTURE, MEMBER, clientsOn(emulatorEndpoint(), 4)), playbookId: 'cis-password-policy' };
  // A weak policy to start from, set through a client without injections.
  const setup = actionContext(PASSWORD_FIXTURE, MEMBER);
  await setup.clients.create(IAMClient, setup.target).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
  return ctx;
}

async function rejectionOf(promise: Promise<unknown>): Promise<{ error: unknown; value: unknown }> {
  try {
    return { error: undefined, value: await promise };
  } catch (error) {
    return { error, value: undefined };
  }
}

describe('runStep and friends: every failure a typed error with the step’s context', () => {
  beforeEach(() => resetEmulator());

  it('succeeds through throttling the SDK’s adaptive retry absorbs (2 throttles, 4 attempts allowed)', async () => {
    const ctx = await passwordContext();
    const seen = failIam(ctx, 'UpdateAccountPasswordPolicyCommand', 2, () => awsError('Throttling', 400, 'Rate exceeded', true));

    // Through the registry, by name.
    const outcome = await runStep({ registry: builtInActions(), action: 'iam.set-password-policy' }, ctx, {});

    expect(seen.attempts).toBe(3);
    expect(outcome).toMatchObject({ action: 'iam.set-password-policy', changed: true });
    expect(await readPolicy()).toMatchObject({ MinimumPasswordLength: 14, RequireSymbols: true, PasswordReusePrevention: 24, MaxPasswordAge: 90 });
    expect(await verifyStep(setPasswordPolicy, ctx, {})).toMatchObject({ compliant: true });
  });

  it('fails with a retryable ActionFailedError, the policy unchanged, when every attempt is throttled', async () => {
    const ctx = await passwordContext();
    const seen = failIam(ctx, 'UpdateAccountPasswordPolicyCommand', Number.POSITIVE_INFINITY, () => awsError('Throttling', 400, 'Rate exceeded', true));

    const { error, value } = await rejectionOf(runStep(setPasswordPolicy, ctx, {}));

    expect(value).toBeUndefined();
    expect(seen.attempts).toBe(4);
    expect(error).toBeInstanceOf(ActionFailedError);
    expect(error).toMatchObject({
      code: 'ACTION_FAILED',
      retryable: true,
      errorName: 'Throttling',
      context: { account: MEMBER, region: 'us-east-1', resource: resourceOf(ctx), step: 'iam.set-password-policy', playbook: 'cis-password-policy', phase: 'run', statusCode: 400 },
    });
    expect((error as Error).cause).toMatchObject({ name: 'Throttling' });
    expect((error as Error).message).toContain('iam.set-password-policy');
    expect((error as Error).message).toContain(`account ${MEMBER}, region us-east-1`);
    expect((error as Error).message).toContain(resourceOf(ctx));
    expect((error as Error).message).toContain('Throttling: Rate exceeded');
    expect(await readPolicy()).toMatchObject({ MinimumPasswordLength: 8, RequireSymbols: false });
  });

  it('fails with a non-retryable ActionFailedError on AccessDenied, after one attempt', async () => {
    const ctx = await passwordContext();
    const seen = failIam(ctx, 'UpdateAccountPasswordPolicyCommand', Number.POSITIVE_INFINITY, () =>
      awsError('AccessDenied', 403, `User: arn:aws:sts::${MEMBER}:assumed-role/RiposteMemberRole/riposte-test-run is not authorized to perform: iam:UpdateAccountPasswordPolicy`),
    );

    const { error } = await rejectionOf(runStep(setPasswordPolicy, ctx, {}));

    expect(seen.attempts).toBe(1);
    expect(error).toBeInstanceOf(ActionFailedError);
    expect(error).toMatchObject({
      retryable: false,
      errorName: 'AccessDenied',
      context: { account: MEMBER, region: 'us-east-1', resource: resourceOf(ctx), step: 'iam.set-password-policy', statusCode: 403 },
    });
    expect((error as Error).message).toContain('AccessDenied: User: arn:aws:sts::');
    expect(await readPolicy()).toMatchObject({ MinimumPasswordLength: 8 });
  });

  it('wraps a Riposte error without account and region (the emulator lacking an operation), keeping it as the cause', async () => {
    const ctx = await passwordContext();
    const gap = new EmulatorUnsupportedOperationError('IAM', 'UpdateAccountPasswordPolicy', 404);
    failIam(ctx, 'UpdateAccountPasswordPolicyCommand', Number.POSITIVE_INFINITY, () => gap);

    const { error } = await rejectionOf(runStep(setPasswordPolicy, ctx, {}));

    expect(error).toBeInstanceOf(ActionFailedError);
    expect((error as Error).cause).toBe(gap);
    expect(error).toMatchObject({ retryable: false, context: { account: MEMBER, region: 'us-east-1', resource: resourceOf(ctx), step: 'iam.set-password-policy' } });
    expect((error as Error).message).toContain('EmulatorUnsupportedOperationError [AWS_EMULATOR_UNSUPPORTED_OPERATION]: the emulator does not implement IAM.UpdateAccountPasswordPolicy');
  });

  it('validates parameters against the action’s schema before calling AWS', async () => {
    const ctx = await passwordContext();
    const seen = failIam(ctx, 'GetAccountPasswordPolicyCommand', 0, () => undefined);

    const { error } = await rejectionOf(runStep(setPasswordPolicy, ctx, { minimumPasswordLength: 6 }));

    expect(error).toBeInstanceOf(ActionParamsInvalidError);
    expect(error).toMatchObject({
      code: 'ACTION_PARAMS_INVALID',
      retryable: false,
      context: { account: MEMBER, region: 'us-east-1', step: 'iam.set-password-policy', field: 'minimumPasswordLength' },
    });
    expect(seen.attempts).toBe(0);
  });

  it('refuses to roll back an action without rollback, with ActionNotReversibleError', async () => {
    const ctx = actionContext(PASSWORD_FIXTURE, MEMBER);
    const noRollback = defineAction({ ...setPasswordPolicy, name: 'test.no-rollback', behaviour: { ...setPasswordPolicy.behaviour, rollback: undefined } });
    await expect(rollbackStep(noRollback, ctx, { previous: null })).rejects.toBeInstanceOf(ActionNotReversibleError);
    await expect(rollbackStep(noRollback, ctx, { previous: null })).rejects.toMatchObject({ code: 'ACTION_NOT_REVERSIBLE', context: { account: MEMBER, step: 'test.no-rollback' } });
  });

  it('passes the action’s own InstanceNotFoundError through unchanged', async () => {
    const ctx = actionContext(EC2_FIXTURE, MEMBER);

    const { error } = await rejectionOf(runStep(isolateInstance, ctx, {}));

    expect(error).toBeInstanceOf(InstanceNotFoundError);
    expect(error).not.toBeInstanceOf(ActionFailedError);
    expect(error).toMatchObject({
      code: 'EC2_INSTANCE_NOT_FOUND',
      retryable: false,
      context: { account: MEMBER, region: 'us-east-1', resource: `arn:aws:ec2:us-east-1:${MEMBER}:instance/i-0a1b2c3d4e5f60718`, step: 'ec2.isolate' },
    });
  });

  describe('when the emulator stops in the middle of ec2.isolate', () => {
    let emulator: Emulator | undefined;
    beforeAll(async () => {
      emulator = await startEmulator();
    });
    afterAll(async () => {
      await emulator?.stop();
    });

    it('fails with a retryable ActionFailedError naming the step, and returns no outcome', async () => {
      const private_ = emulator as Emulator;
      const clients = clientsOn(private_.endpoint, 2);
      const base = actionContext(EC2_FIXTURE, MEMBER, clients);
      const ec2 = base.clients.create(EC2Client, base.target);

      // An instance with two interfaces, as in ec2-isolate.int.test.ts.
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc?.VpcId as string;
      const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.3.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet?.SubnetId as string;
      const web = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'web', Description: 'web servers' }))).GroupId as string;
      const admin = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'admin', Description: 'admin access' }))).GroupId as string;
      const { Instances } = await ec2.send(
        new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [web] }] }),
      );
      const instanceId = Instances?.[0]?.InstanceId as string;
      const secondaryEni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [admin, web] }))).NetworkInterface?.NetworkInterfaceId as string;
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: secondaryEni, InstanceId: instanceId, DeviceIndex: 1 }));
      const ctx: ActionContext = { ...base, resource: { ...base.resource, instanceId }, playbookId: 'ec2-backdoor' };

      // The action gets this same (cached) client: stop the emulator once the first interface has moved.
      let modifications = 0;
      ec2.middlewareStack.add(
        (next, handlerContext) => async (args) => {
          const result = await next(args);
          if (handlerContext.commandName === 'ModifyNetworkInterfaceAttributeCommand') {
            modifications += 1;
            if (modifications === 1) await private_.stop();
          }
          return result;
        },
        { step: 'initialize', name: 'stopEmulatorAfterFirstModification' },
      );

      const { error, value } = await rejectionOf(runStep(isolateInstance, ctx, {}));

      // The interfaces move side by side: the other interface's first move may have been answered before the
      // emulator stopped, but neither reached quarantine (four moves in all: allow-all, then quarantine, for each).
      expect(modifications).toBeGreaterThanOrEqual(1);
      expect(modifications).toBeLessThanOrEqual(2);
      expect(value).toBeUndefined();
      expect(error).toBeInstanceOf(ActionFailedError);
      expect(error).toMatchObject({
        code: 'ACTION_FAILED',
        retryable: true,
        context: { account: MEMBER, region: 'us-east-1', resource: resourceOf(ctx), step: 'ec2.isolate', playbook: 'ec2-backdoor', phase: 'run' },
      });
      expect((error as Error).message).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
      clients.destroy();
    });
  });
});
