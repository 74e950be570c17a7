import type { InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, MetadataBearer, Pluggable } from '@smithy/types';
import pLimit, { type LimitFunction } from 'p-limit';

import type { AwsClientFactory, SdkClient, SdkClientConstructor } from './client-factory.js';
import { LruMap } from './lru.js';
import { checkMemberTarget, type MemberCredentials, type MemberTarget } from './member-credentials.js';
import { runReadMemoPlugin } from './run-read-memo.js';

export interface MemberClientsOptions {
  /** Calls in flight at once per member account, across all clients: a burst of findings cannot exceed API limits. */
  readonly maxConcurrentCallsPerAccount?: number;
  /**
   * Clients kept (one per service, account and region), the least recently
   * used forgotten first: 1,000 unless given. Accounts' limiters are kept
   * for as many accounts.
   */
  readonly maxClients?: number;
}

const DEFAULT_MAX_CLIENTS = 1_000;

/** Wraps every call of a client in the account's limiter (outermost, so retries wait their turn too). */
function limiterPlugin(limit: LimitFunction): Pluggable<object, MetadataBearer> {
  return {
    applyToStack(stack) {
      stack.add(
        <Output extends MetadataBearer>(next: InitializeHandler<object, Output>) =>
          (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<Output>> =>
            limit(() => next(args)),
        { step: 'initialize', priority: 'high', name: 'riposteAccountLimiter' },
      );
    },
  };
}

/**
 * SDK clients acting in a member account through the assumed role: one
 * client per service, account and region, sharing the account's
 * credentials and its concurrency limit.
 */
export class MemberClients {
  readonly #factory: AwsClientFactory;
  readonly #credentials: MemberCredentials;
  readonly #maxConcurrent: number;
  readonly #limits: LruMap<string, LimitFunction>;
  readonly #clients: LruMap<string, SdkClient>;

  constructor(factory: AwsClientFactory, credentials: MemberCredentials, options: MemberClientsOptions = {}) {
    this.#factory = factory;
    this.#credentials = credentials;
    this.#maxConcurrent = options.maxConcurrentCallsPerAccount ?? 16;
    this.#clients = new LruMap(options.maxClients ?? DEFAULT_MAX_CLIENTS);
    this.#limits = new LruMap(options.maxClients ?? DEFAULT_MAX_CLIENTS);
  }

  /** A number for each client class seen: the first part of a client's cache key. */
  readonly #services = new Map<unknown, number>();

  #serviceKey(Client: unknown): number {
    let key = this.#services.get(Client);
    if (key === undefined) {
      key = this.#services.size + 1;
      this.#services.set(Client, key);
    }
    return key;
  }

  /** How many clients are cached now (at most `maxClients`). */
  get cachedClients(): number {
    return this.#clients.size;
  }

  get credentials(): MemberCredentials {
    return this.#credentials;
  }

  /**
   * The client for `Client`'s service in the target's account and region.
   * A client forgotten by the cache is not destroyed: a run may still hold
   * it (its idle sockets do not keep the process alive, and close with it).
   *
   * @throws InvalidMemberTargetError for an account or region no client is made for (see `checkMemberTarget`).
   */
  create<Client extends SdkClient, ClientConfig>(Client: SdkClientConstructor<Client, ClientConfig>, target: MemberTarget, extra: Partial<ClientConfig> = {}): Client {
    checkMemberTarget(target);
    // Clients are cached by service, account and region; the correlation id
    // only names the role session, which is shared per account anyway. The
    // service is the constructor itself, not its name: the deployed bundles
    // are minified, and two classes' names there say nothing.
    const key = `${this.#serviceKey(Client)}/${target.partition}/${target.account}/${target.region}/${JSON.stringify(extra)}`;
    const cached = this.#clients.get(key);
    if (cached !== undefined) return cached as Client;
    const own = this.#credentials.usesOwnCredentials(target.account);
    const client = this.#factory.create(Client, { region: target.region, ...(own ? {} : { credentials: this.#credentials.provider(target) }) }, extra);
    let limit = this.#limits.get(target.account);
    if (limit === undefined) {
      limit = pLimit(this.#maxConcurrent);
      this.#limits.set(target.account, limit);
    }
    // Before the limiter: a read the run already made takes no slot of the account's.
    client.middlewareStack.use(runReadMemoPlugin(key));
    client.middlewareStack.use(limiterPlugin(limit));
    this.#clients.set(key, client);
    return client;
  }

  /** Closes every client's sockets. */
  destroy(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }
}
