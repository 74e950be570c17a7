import { EC2Client, CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, GetConsoleScreenshotCommand } from '@aws-sdk/client-ec2';
import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { GetInsightsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { describe, expect, it } from 'vitest';

import { EmulatorStartError, EmulatorUnsupportedOperationError, startEmulator } from '../../src/emulator/index.js';
import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';

describe('emulator harness', () => {
  it('writes through the SDK and reads the same state back', async () => {
    const iam = emulatorClientFactory().create(IAMClient);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 14, RequireSymbols: true, PasswordReusePrevention: 24 }));

    const { PasswordPolicy } = await iam.send(new GetAccountPasswordPolicyCommand({}));

    expect(PasswordPolicy).toMatchObject({ MinimumPasswordLength: 14, RequireSymbols: true, PasswordReusePrevention: 24 });
  });

  it('keeps regions apart and reads EC2 state back', async () => {
    const ec2 = emulatorClientFactory('eu-west-1').create(EC2Client);
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'harness-check', Description: 'harness' }));

    const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId as string] }));
    const elsewhere = emulatorClientFactory('us-west-2').create(EC2Client);
    const { SecurityGroups: otherRegion } = await elsewhere.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['harness-check'] }] }));

    expect(SecurityGroups?.[0]?.GroupName).toBe('harness-check');
    expect(otherRegion).toEqual([]);
  });

  it('clears state on reset', async () => {
    const iam = emulatorClientFactory().create(IAMClient);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 20 }));

    await resetEmulator();

    await expect(iam.send(new GetAccountPasswordPolicyCommand({}))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('names a JSON-protocol operation the emulator lacks (Security Hub GetInsights)', async () => {
    const securityHub = emulatorClientFactory().create(SecurityHubClient);

    const call = securityHub.send(new GetInsightsCommand({}));

    await expect(call).rejects.toBeInstanceOf(EmulatorUnsupportedOperationError);
    await expect(call).rejects.toThrow('the emulator does not implement SecurityHub.GetInsights');
  });

  it('names a query-protocol operation the emulator lacks (EC2 GetConsoleScreenshot)', async () => {
    const ec2 = emulatorClientFactory().create(EC2Client);

    const error: unknown = await ec2.send(new GetConsoleScreenshotCommand({ InstanceId: 'i-0123456789abcdef0' })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EmulatorUnsupportedOperationError);
    expect(error).toMatchObject({ service: 'EC2', operation: 'GetConsoleScreenshot', retryable: false });
  });
});

describe('startEmulator', () => {
  it('says how to install moto when moto_server is not on the PATH', async () => {
    const start = startEmulator({ searchPath: '/nonexistent-bin' });

    await expect(start).rejects.toBeInstanceOf(EmulatorStartError);
    await expect(start).rejects.toThrow('pip install "moto[server]"');
  });

  it('starts on a free loopback port and stops the process it started', async () => {
    const emulator = await startEmulator();
    expect(emulator.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answered = await fetch(`${emulator.endpoint}/moto-api/data.json`);
    expect(answered.ok).toBe(true);

    await emulator.stop();

    expect(() => process.kill(emulator.pid, 0)).toThrow();
    await expect(fetch(`${emulator.endpoint}/moto-api/data.json`)).rejects.toThrow();
  });
});
