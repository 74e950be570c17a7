import type { AwsClientFactoryOptions } from '../aws/index.js';
import { emulatorGapPlugin } from './gap-plugin.js';

/**
 * What a client factory pointed at the emulator needs:
 *
 * - credentials: moto accepts any signature; the access key only chooses the
 *   emulated account (`testing` is moto's default account, 123456789012).
 *   A provider, so each client gets a fresh object (the SDK annotates the
 *   credentials it is given);
 * - the gap plugin, which names what the emulator lacks.
 *
 * ```ts
 * const factory = new AwsClientFactory({ region, endpoint: emulator.endpoint, maxAttempts: 2 }, emulatorClientOptions());
 * ```
 */
export function emulatorClientOptions(): AwsClientFactoryOptions {
  return {
    credentials: () => Promise.resolve({ accessKeyId: 'testing', secretAccessKey: 'testing' }),
    plugins: [emulatorGapPlugin],
  };
}
