import { AwsClientFactory } from '../../src/aws/index.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';

let leased: string | undefined;

/** Set by test/support/emulator-lease.ts: the emulator this test file holds alone. */
export function leaseEmulator(endpoint: string): void {
  leased = endpoint;
}

/** The moto_server endpoint leased to the running test file. */
export function emulatorEndpoint(): string {
  if (leased === undefined) {
    throw new Error('No emulator is leased: run integration tests (*.int.test.ts) through vitest, whose setup leases one per file');
  }
  return leased;
}

/** Clears this worker's emulator (and only this worker's). */
export async function resetEmulator(endpoint = emulatorEndpoint()): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`resetting the emulator at ${endpoint} failed: HTTP ${response.status}`);
}

/** A client factory pointed at this worker's emulator. */
export function emulatorClientFactory(region = 'us-east-1'): AwsClientFactory {
  return new AwsClientFactory({ region, endpoint: emulatorEndpoint(), maxAttempts: 2 }, emulatorClientOptions());
}

/** Reads moto's internal state (e.g. SNS sent notifications). */
export async function emulatorData(endpoint = emulatorEndpoint()): Promise<Record<string, unknown>> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * Turns moto's IAM enforcement on (every later call is authorised against
 * IAM policies) or off, on the emulator this file holds alone.
 */
export async function setIamEnforcement(on: boolean, endpoint = emulatorEndpoint()): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset-auth`, {
    method: 'POST',
    body: on ? '0' : '1000000000',
    headers: { 'Content-Type': 'text/plain' },
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`moto reset-auth failed: HTTP ${response.status}`);
}
