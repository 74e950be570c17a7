import { inject } from 'vitest';

import { AwsClientFactory } from '../../src/aws/client-factory.js';

/** The moto_server endpoint that belongs to the worker running this test file. */
export function emulatorEndpoint(): string {
  const endpoints = inject('emulatorEndpoints');
  if (endpoints === undefined || endpoints.length === 0) {
    throw new Error('No emulator endpoints were provided: run integration tests through vitest with the emulator global setup');
  }
  const poolId = Number(process.env.VITEST_POOL_ID ?? '1');
  return endpoints[(poolId - 1) % endpoints.length] as string;
}

/** Clears this worker's emulator (and only this worker's). */
export async function resetEmulator(endpoint = emulatorEndpoint()): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`resetting the emulator at ${endpoint} failed: HTTP ${response.status}`);
}

/** A client factory pointed at this worker's emulator. */
export function emulatorClientFactory(region = 'us-east-1'): AwsClientFactory {
  return new AwsClientFactory({ region, endpoint: emulatorEndpoint(), maxAttempts: 2 }, {});
}

/** Reads moto's internal state (e.g. SNS sent notifications). */
export async function emulatorData(endpoint = emulatorEndpoint()): Promise<Record<string, unknown>> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  return (await response.json()) as Record<string, unknown>;
}
