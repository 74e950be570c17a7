import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  MetadataBearer,
  Pluggable,
} from '@smithy/types';

import type { AwsSettings } from '../config.js';
import { emulatorGapPlugin } from './emulator-gap-middleware.js';

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
}

export type SdkClientConstructor<Client extends SdkClient, ClientConfig> = new (...args: [] | [ClientConfig]) => Client;

export interface ClientScope {
  /** Defaults to the hosting region from configuration. */
  readonly region?: string;
  /** Defaults to the SDK's provider chain (or, against the emulator, test credentials). */
  readonly credentials?: AwsCredentials;
}

/**
 * moto accepts any signature; the access key only chooses the emulated
 * account (this one maps to moto's default account, 123456789012). A fresh
 * object each time: the SDK annotates the credentials it is given.
 */
const emulatorCredentials = (): AwsCredentialIdentity => ({ accessKeyId: 'testing', secretAccessKey: 'testing' });

/**
 * The one place SDK clients are made. Every module asks it for clients, so the
 * endpoint override, retry strategy and emulator diagnostics apply everywhere.
 *
 * ```ts
 * const ec2 = factory.create(EC2Client, { region: 'eu-west-1', credentials });
 * ```
 */
export class AwsClientFactory {
  readonly settings: AwsSettings;
  readonly #environment: NodeJS.ProcessEnv;
  readonly #credentials: AwsCredentials | undefined;

  /**
   * @param credentials Riposte's own credentials, when not the SDK's provider
   *   chain (a scope's credentials still win).
   */
  constructor(settings: AwsSettings, environment: NodeJS.ProcessEnv = process.env, credentials?: AwsCredentials) {
    this.settings = settings;
    this.#environment = environment;
    this.#credentials = credentials;
  }

  /** Whether clients talk to an emulator (an endpoint override is configured). */
  get usesEmulator(): boolean {
    return this.settings.endpoint !== undefined;
  }

  /**
   * @param extra client-specific settings (e.g. `forcePathStyle` for S3),
   *   merged over the factory's own.
   */
  create<Client extends SdkClient, ClientConfig>(
    Client: SdkClientConstructor<Client, ClientConfig>,
    scope: ClientScope = {},
    extra: Partial<ClientConfig> = {},
  ): Client {
    const config: BaseClientConfig = {
      region: scope.region ?? this.settings.region,
      maxAttempts: this.settings.maxAttempts,
      // Adaptive mode adds client-side rate limiting on top of the standard
      // exponential backoff, which is what a burst of findings needs.
      retryMode: 'adaptive',
    };
    const credentials = scope.credentials ?? this.#credentials ?? this.#emulatorCredentials();
    if (credentials !== undefined) config.credentials = credentials;
    if (this.settings.endpoint !== undefined) config.endpoint = this.settings.endpoint;

    const client = new Client({ ...config, ...extra } as ClientConfig);
    if (this.usesEmulator) {
      client.middlewareStack.use(emulatorGapPlugin);
    }
    return client;
  }

  #emulatorCredentials(): AwsCredentials | undefined {
    if (!this.usesEmulator || this.#environment.AWS_ACCESS_KEY_ID !== undefined) return undefined;
    return emulatorCredentials();
  }
}
