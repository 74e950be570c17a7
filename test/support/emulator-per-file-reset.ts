import { resetEmulator } from './emulator.js';

// Runs before each integration test file, in that file's worker: the file
// starts from an empty emulator that no other file is using at the same time.
await resetEmulator();
