import { EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';

import { AwsClientFactory } from '../../src/aws/index.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';

describe('AwsClientFactory', () => {
  it('gives clients the configured region, adaptive retries and attempts', async () => {
    const factory = new AwsClientFactory({ region: 'eu-central-1', maxAttempts: 4 }, {});

    const client = factory.create(EC2Client);

    expect(await client.config.region()).toBe('eu-central-1');
    expect(await client.config.maxAttempts()).toBe(4);
    expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    expect(factory.settings.endpoint).toBeUndefined();
  });

  it('lets a scope choose the region and credentials (a member account)', async () => {
    const factory = new AwsClientFactory({ region: 'us-east-1', maxAttempts: 3 }, {});
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

    const client = factory.create(EC2Client, { region: 'ap-southeast-2', credentials });

    expect(await client.config.region()).toBe('ap-southeast-2');
    expect(await client.config.credentials()).toMatchObject(credentials);
  });

  it('points every client at the emulator, with the emulator’s test credentials and its plugin naming missing operations', async () => {
    const factory = new AwsClientFactory({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }, emulatorClientOptions());

    const client = factory.create(EC2Client);

    const endpoint = await client.config.endpoint?.();
    expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe('http://127.0.0.1:1');
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'testing' });
    expect(client.middlewareStack.identify().some((entry) => entry.startsWith('riposteEmulatorGapMiddleware'))).toBe(true);
  });

  it('adds no emulator middleware in production', () => {
    const client = new AwsClientFactory({ region: 'us-east-1', maxAttempts: 3 }, {}).create(EC2Client);

    expect(client.middlewareStack.identify().some((entry) => entry.startsWith('riposteEmulatorGapMiddleware'))).toBe(false);
  });
});
