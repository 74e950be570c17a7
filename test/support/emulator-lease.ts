import { openSync, closeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, inject } from 'vitest';

import { leaseEmulator, resetEmulator, setIamEnforcement } from './emulator.js';

/**
 * Runs before each integration test file: takes an exclusive lease on one of
 * the run's emulators (a lock file created with O_EXCL), starts it empty, and
 * gives it back clean — state reset, IAM enforcement off — after the file.
 */
const endpoints = inject('emulatorEndpoints');
const directory = inject('emulatorLeaseDirectory');

async function lease(): Promise<{ endpoint: string; lock: string }> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    for (const [index, endpoint] of endpoints.entries()) {
      const lock = join(directory, `${index}.lock`);
      try {
        closeSync(openSync(lock, 'wx'));
        return { endpoint, lock };
      } catch {
        // taken by another file
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no emulator became free within 120 s (${endpoints.length} started)`);
}

async function clean(endpoint: string): Promise<void> {
  await setIamEnforcement(false, endpoint);
  await resetEmulator(endpoint);
}

const { endpoint, lock } = await lease();
await clean(endpoint);
leaseEmulator(endpoint);

afterAll(async () => {
  try {
    await clean(endpoint);
  } finally {
    unlinkSync(lock);
  }
});
