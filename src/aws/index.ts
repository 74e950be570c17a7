export { AwsClientFactory } from './client-factory.js';
export type { AwsCredentials, BaseClientConfig, ClientScope, SdkClient, SdkClientConstructor } from './client-factory.js';
export { EmulatorUnsupportedOperationError } from './errors.js';
export { EmulatorStartError, startEmulator } from './emulator.js';
export type { Emulator, EmulatorOptions } from './emulator.js';
