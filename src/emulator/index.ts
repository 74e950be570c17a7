/**
 * The local AWS emulator (moto_server) and its workarounds. For the demo, the
 * tests and the benchmarks only: production code never imports this module.
 */
export { emulatorClientOptions } from './client-options.js';
export { createEvidenceBucket } from './evidence-bucket.js';
export { EmulatorAccessDeniedError, EmulatorStartError, EmulatorUnsupportedOperationError } from './errors.js';
export { emulatorGapPlugin } from './gap-plugin.js';
export { startEmulator } from './launcher.js';
export type { Emulator, EmulatorOptions } from './launcher.js';
