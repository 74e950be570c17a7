/*
 * Why not `fromTemporaryCredentials` (@aws-sdk/credential-providers, one
 * provider per account, region and role)? Evaluated against 3.1173.0, the
 * version matching our clients. It makes one AssumeRole call per call of the
 * provider and caches nothing itself: the SDK memoizes credentials per
 * client, so the EC2, IAM and S3 clients of one account would each assume
 * the role, where we make one AssumeRole per account, region and role for all
 * of them (what the tests count, and what a burst over 500 accounts needs).
 * Sharing one in-flight call between concurrent callers, not caching a
 * failure, renewing five minutes before expiry, counting calls, and turning
 * STS's answer into AssumeRoleDeniedError or AssumeRoleFailedError would all
 * stay ours, wrapped around it. It supports the external id and session name,
 * but builds its own STS client (from @aws-sdk/nested-clients) outside the
 * client factory, so the endpoint override, retry settings and plugins would
 * have to be passed again through its `clientConfig`. What it would replace
 * is the AssumeRole call and the check of its answer, about fifteen lines,
 * for a new dependency: kept as is.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

import { isKnownRegion, KNOWN_REGIONS, type Partition } from '../aws-names.js';
import { errorName } from '../errors.js';
import type { AwsClientFactory } from './client-factory.js';
import { AssumeRoleDeniedError, AssumeRoleFailedError, InvalidMemberTargetError } from './errors.js';
import { LruMap } from './lru.js';

export interface MemberRoleSettings {
  /** The role Riposte assumes in each member account (deployed there by StackSets). */
  readonly roleName: string;
  /** Shared with the member role's trust policy (`sts:ExternalId`). */
  readonly externalId?: string;
  readonly sessionDurationSeconds: number;
  /** The account Riposte runs in, when known. */
  readonly hostingAccount?: string;
  /** Whether findings in the hosting account also go through the member role (else Riposte's own credentials). */
  readonly assumeRoleInHostingAccount: boolean;
}

export interface MemberTarget {
  readonly account: string;
  readonly region: string;
  readonly partition: Partition;
  /** Carried into the role session name, so CloudTrail ties every call to the run. */
  readonly correlationId: string;
}

export interface MemberCredentialsOptions {
  /**
   * Role sessions kept (one per account, region and role), the least
   * recently used forgotten first: 5,000 unless given, room for 500
   * accounts in 10 regions.
   */
  readonly maxSessions?: number;
}

const DEFAULT_MAX_SESSIONS = 5_000;

/** A value from a finding, quoted in an error: short, whatever its length. */
const quoted = (value: string): string => JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);

/**
 * Refuses a target no client or role session may be made for: an account
 * that is not 12 digits, a region that is not one of its partition's.
 * Both come from findings, and each new value would otherwise cost a cache
 * entry, a client and an AssumeRole.
 *
 * @throws InvalidMemberTargetError naming the value.
 */
export function checkMemberTarget(target: MemberTarget): void {
  if (!/^\d{12}$/.test(target.account)) {
    throw new InvalidMemberTargetError(`${quoted(target.account)} is not an AWS account id (12 digits): nothing is done in it`, target.account, target.region);
  }
  if (!isKnownRegion(target.partition, target.region)) {
    const partition = String(target.partition);
    const known = Object.hasOwn(KNOWN_REGIONS, partition) ? `one of ${KNOWN_REGIONS[partition as Partition].length} known` : 'a partition Riposte supports';
    throw new InvalidMemberTargetError(`region ${quoted(target.region)} is not a region of partition ${quoted(partition)} (${known}): no client is made for it`, target.account, target.region);
  }
}

/** Credentials are renewed this long before they expire, so no call runs on credentials about to lapse. */
const RENEW_BEFORE_MS = 5 * 60_000;

/** STS's answers when the caller may not assume the role. STS models no class for them: they are told by name. */
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'InvalidClientTokenId', 'UnrecognizedClientException']);

/** `riposte-<correlation id>`, within STS's 2–64 characters of [\w+=,.@-]. */
export function sessionNameFor(correlationId: string): string {
  return `riposte-${correlationId.replace(/[^\w+=,.@-]/g, '-')}`.slice(0, 64);
}

export function memberRoleArn(partition: Partition, account: string, roleName: string): string {
  return `arn:${partition}:iam::${account}:role/${roleName}`;
}

interface CacheEntry {
  readonly promise: Promise<AwsCredentialIdentity>;
  expiresAt?: number;
}

/**
 * Credentials for the member-account role, one AssumeRole per account,
 * region and role while they are valid: concurrent callers share one
 * in-flight request, and credentials are renewed shortly before they expire.
 * STS is called through the client factory, so the endpoint override (the
 * emulator) applies to it like to every other call.
 */
export class MemberCredentials {
  readonly #factory: AwsClientFactory;
  readonly #settings: MemberRoleSettings;
  readonly #now: () => number;
  readonly #cache: LruMap<string, CacheEntry>;
  /** One STS client per region: regions are checked against the known list first, so this stays small. */
  readonly #sts = new Map<string, STSClient>();
  /** How many AssumeRole calls were made (for tests and metrics). */
  assumeRoleCalls = 0;

  constructor(factory: AwsClientFactory, settings: MemberRoleSettings, now: () => number = Date.now, options: MemberCredentialsOptions = {}) {
    this.#factory = factory;
    this.#settings = settings;
    this.#now = now;
    this.#cache = new LruMap(options.maxSessions ?? DEFAULT_MAX_SESSIONS);
  }

  /** How many role sessions are cached now (at most `maxSessions`). */
  get cachedSessions(): number {
    return this.#cache.size;
  }

  /** Whether calls in `account` use Riposte's own credentials: the hosting account, unless the role is assumed there too. */
  usesOwnCredentials(account: string): boolean {
    return account === this.#settings.hostingAccount && !this.#settings.assumeRoleInHostingAccount;
  }

  /** A provider the SDK calls as it needs credentials; it answers from the cache. */
  provider(target: MemberTarget): AwsCredentialIdentityProvider {
    return () => this.credentials(target);
  }

  /** @throws InvalidMemberTargetError for an account or region no session is made for (see {@link checkMemberTarget}). */
  async credentials(target: MemberTarget): Promise<AwsCredentialIdentity> {
    checkMemberTarget(target);
    const key = `${target.partition}/${target.account}/${target.region}/${this.#settings.roleName}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined && (cached.expiresAt === undefined || cached.expiresAt - RENEW_BEFORE_MS > this.#now())) {
      return cached.promise;
    }
    const entry: CacheEntry = { promise: this.#assume(target) };
    this.#cache.set(key, entry);
    try {
      const credentials = await entry.promise;
      entry.expiresAt = credentials.expiration?.getTime() ?? this.#now() + this.#settings.sessionDurationSeconds * 1000;
      return credentials;
    } catch (error) {
      // A failure is not cached: the next finding for this account tries again.
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
      throw error;
    }
  }

  async #assume(target: MemberTarget): Promise<AwsCredentialIdentity> {
    const roleArn = memberRoleArn(target.partition, target.account, this.#settings.roleName);
    let sts = this.#sts.get(target.region);
    if (sts === undefined) {
      sts = this.#factory.create(STSClient, { region: target.region });
      this.#sts.set(target.region, sts);
    }
    this.assumeRoleCalls += 1;
    try {
      const { Credentials } = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionNameFor(target.correlationId),
          DurationSeconds: this.#settings.sessionDurationSeconds,
          ...(this.#settings.externalId === undefined ? {} : { ExternalId: this.#settings.externalId }),
        }),
      );
      if (Credentials?.AccessKeyId === undefined || Credentials.SecretAccessKey === undefined) {
        throw new Error('STS returned no credentials');
      }
      return {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        ...(Credentials.SessionToken === undefined ? {} : { sessionToken: Credentials.SessionToken }),
        ...(Credentials.Expiration === undefined ? {} : { expiration: Credentials.Expiration }),
      };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (ACCESS_DENIED.has(errorName(error) ?? '') || status === 403) throw new AssumeRoleDeniedError(roleArn, target.account, target.region, error);
      throw new AssumeRoleFailedError(roleArn, target.account, target.region, error);
    }
  }
}
