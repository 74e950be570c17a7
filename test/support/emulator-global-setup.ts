import type { TestProject } from 'vitest/node';

import { startEmulator, type Emulator } from '../../src/aws/emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** One moto_server endpoint per vitest worker (index = VITEST_POOL_ID - 1). */
    emulatorEndpoints: string[];
  }
}

/**
 * Starts one moto_server per vitest worker, so test files running in
 * parallel never reset or read each other's state, and stops them all at the
 * end — teardown runs even when tests fail.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const workers = Math.max(1, Number(project.globalConfig.maxWorkers) || 1);
  const started: Emulator[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((emulator) => emulator.stop()));
  };
  try {
    for (const emulator of await Promise.all(Array.from({ length: workers }, () => startEmulator()))) {
      started.push(emulator);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  project.provide(
    'emulatorEndpoints',
    started.map((emulator) => emulator.endpoint),
  );
  return stopAll;
}
