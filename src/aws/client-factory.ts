import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, MetadataBearer, Pluggable, RetryStrategyV2 } from '@smithy/types';

import type { AwsSettings } from '../config.js';

export type AwsCredentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/** What every SDK v3 client has, and all the factory relies on. */
export interface SdkClient {
  readonly middlewareStack: { use(plugin: Pluggable<object, MetadataBearer>): void };
  destroy(): void;
}

/** The settings the factory gives every client; each client's own config type accepts them. */
export interface BaseClientConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentials;
  maxAttempts: number;
  retryMode: 'adaptive';
  retryStrategy?: RetryStrategyV2;
}

export type SdkClientConstructor<Client extends SdkClient, ClientConfig> = new (...args: [] | [ClientConfig]) => Client;

export interface ClientScope {
  /** Defaults to the hosting region from configuration. */
  readonly region?: string;
  /** Defaults to the factory's credentials, else the SDK's provider chain. */
  readonly credentials?: AwsCredentials;
}

/** How a factory's clients differ from the SDK's defaults, besides the settings from configuration. */
export interface AwsClientFactoryOptions {
  /** Riposte's own credentials, when not the SDK's provider chain (a scope's credentials still win). */
  readonly credentials?: AwsCredentials;
  /** Added to every client made, e.g. the emulator's diagnostics, which the demo and the tests pass in. */
  readonly plugins?: readonly Pluggable<object, MetadataBearer>[];
  /**
   * Replaces the SDK's adaptive retry strategy for every client made. Only
   * the throttling tests give one: the same kind of strategy with its backoff
   * shortened from seconds to milliseconds, so a burst of throttles fits in CI.
   */
  readonly retryStrategy?: () => RetryStrategyV2;
}

/**
 * The one place SDK clients are made. Every module asks it for clients, so the
 * endpoint override, the retry strategy and the caller's plugins apply everywhere.
 *
 * ```ts
 * const ec2 = factory.create(EC2Client, { region: 'eu-west-1', credentials });
 * ```
 */
export class AwsClientFactory {
  readonly settings: AwsSettings;
  readonly options: AwsClientFactoryOptions;

  constructor(settings: AwsSettings, options: AwsClientFactoryOptions = {}) {
    this.settings = settings;
    this.options = options;
  }

  /**
   * @param extra client-specific settings (e.g. `forcePathStyle` for S3),
   *   merged over the factory's own.
   */
  create<Client extends SdkClient, ClientConfig>(Client: SdkClientConstructor<Client, ClientConfig>, scope: ClientScope = {}, extra: Partial<ClientConfig> = {}): Client {
    const config: BaseClientConfig = {
      region: scope.region ?? this.settings.region,
      maxAttempts: this.settings.maxAttempts,
      // Adaptive mode adds client-side rate limiting on top of the standard
      // exponential backoff, which is what a burst of findings needs.
      retryMode: 'adaptive',
    };
    const credentials = scope.credentials ?? this.options.credentials;
    if (credentials !== undefined) config.credentials = credentials;
    if (this.settings.endpoint !== undefined) config.endpoint = this.settings.endpoint;
    if (this.options.retryStrategy !== undefined) config.retryStrategy = this.options.retryStrategy();

    const client = new Client({ ...config, ...extra } as ClientConfig);
    for (const plugin of this.options.plugins ?? []) client.middlewareStack.use(plugin);
    return client;
  }
}
