import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { TestProject } from 'vitest/node';

import { startEmulator, type Emulator } from '../../src/emulator/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The moto_server endpoints this run started; a test file leases one for itself. */
    emulatorEndpoints: string[];
    /** Where leases are taken (one lock file per endpoint). */
    emulatorLeaseDirectory: string;
  }
}

/**
 * Starts one moto_server per vitest worker (plus one spare), and stops them
 * all at the end — teardown runs even when tests fail. Each integration test
 * file leases one of them for its whole run (test/support/emulator-lease.ts),
 * so files running in parallel never reset or read each other's state.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const count = Math.max(1, Number(project.globalConfig.maxWorkers) || 1) + 1;
  const leaseDirectory = await mkdtemp(join(tmpdir(), 'riposte-emulator-leases-'));
  const started: Emulator[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((emulator) => emulator.stop()));
    await rm(leaseDirectory, { recursive: true, force: true });
  };
  try {
    for (const emulator of await Promise.all(Array.from({ length: count }, () => startEmulator()))) started.push(emulator);
  } catch (error) {
    await stopAll();
    throw error;
  }
  project.provide(
    'emulatorEndpoints',
    started.map((emulator) => emulator.endpoint),
  );
  project.provide('emulatorLeaseDirectory', leaseDirectory);
  return stopAll;
}
