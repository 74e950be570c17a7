/*
 * The default credential chain of the deployed functions, in place of
 * @aws-sdk/credential-provider-node's (deploy/esbuild-plugins.cjs resolves
 * that package to this file in the Lambda bundles, and only there: the CLI,
 * the demo and the tests run unbundled and keep the SDK's full chain).
 *
 * Why: every client's runtimeConfig imports the node chain, which reaches
 * the SSO, INI (profiles), process, web-identity and login providers and the
 * STS, SSO-OIDC and signin clients of @aws-sdk/nested-clients through
 * dynamic imports. A CommonJS bundle inlines all of them (about 107 KB of the
 * findings function), and Node parses them on every cold start. In Lambda
 * none of them can answer: there is no profile, no SSO cache, no token file
 * and no credential process, and the runtime hands the execution role's
 * credentials to the function in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN, which the node chain reads first (`fromEnv`).
 *
 * The container credentials endpoint stays as the second link: with
 * SnapStart, Lambda gives no key variables and sets
 * AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN
 * instead (docs.aws.amazon.com/lambda/latest/dg/snapstart-activate.html,
 * "snapstart-credentials"). SnapStart does not run Node.js functions today;
 * the link costs a few KB and keeps such a function working rather than
 * failing to sign, should it apply one day. Instance metadata (IMDS) is not
 * a link: no Lambda execution mode serves credentials from it.
 */
import { ENV_KEY, ENV_SECRET, fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp, type FromHttpOptions } from '@aws-sdk/credential-provider-http';
import type { AwsIdentityProperties } from '@aws-sdk/types';
import { CredentialsProviderError } from '@smithy/core/config';
import type { AwsCredentialIdentity } from '@smithy/types';

/** The variables the container credentials endpoint is found by (what fromHttp reads). */
const CONTAINER_FULL_URI = 'AWS_CONTAINER_CREDENTIALS_FULL_URI';
const CONTAINER_RELATIVE_URI = 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI';

/** How long before their expiration credentials are refreshed: the node chain's five minutes. */
const REFRESH_BEFORE_EXPIRY_MS = 300_000;

/** What the clients pass (their whole configuration, with its logger): the part this chain reads. */
export type LambdaProviderInit = FromHttpOptions;

/** The node chain's provider type: `forceRefresh` fetches again whatever is cached. */
export type MemoizedCredentialProvider = (options?: AwsIdentityProperties & { forceRefresh?: boolean }) => Promise<AwsCredentialIdentity>;

// The package's three exports are all here (this one, credentialsWillNeedRefresh, defaultProvider): whatever imports it still builds.

/** Credentials that expire within five minutes are refreshed (the node chain's `credentialsTreatedAsExpired`). */
export const credentialsTreatedAsExpired = (credentials: AwsCredentialIdentity): boolean =>
  credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < REFRESH_BEFORE_EXPIRY_MS;

/** Credentials with an expiration are fetched again one day (the node chain's `credentialsWillNeedRefresh`). */
export const credentialsWillNeedRefresh = (credentials: AwsCredentialIdentity): boolean => credentials.expiration !== undefined;

/**
 * The execution role's credentials: from the environment, else from the
 * container endpoint when one is named, else an error naming both.
 */
function lambdaCredentials(init: LambdaProviderInit): () => Promise<AwsCredentialIdentity> {
  return async () => {
    if (process.env[ENV_KEY] && process.env[ENV_SECRET]) return fromEnv(init)();
    // Looked up on each call, not when the client is built: fromHttp throws as soon as it is created without an endpoint.
    if (init.awsContainerCredentialsFullUri ?? init.awsContainerCredentialsRelativeUri ?? process.env[CONTAINER_FULL_URI] ?? process.env[CONTAINER_RELATIVE_URI]) {
      return fromHttp(init)();
    }
    throw new CredentialsProviderError(
      `No credentials for this function: ${ENV_KEY} and ${ENV_SECRET} (the execution role's, which Lambda sets) are not both set, ` +
        `and neither ${CONTAINER_FULL_URI} nor ${CONTAINER_RELATIVE_URI} names a container credentials endpoint. ` +
        'The deployed bundles read no other source (profiles, SSO, web identity, credential process, instance metadata): see deploy/lambda-credential-provider.ts.',
      { logger: init.logger, tryNextLink: false },
    );
  };
}

/**
 * `fetch` memoised as the node chain memoises its own (memoizeChain, which
 * the package does not export): no credentials or expired ones are fetched
 * while every caller waits; credentials within five minutes of their
 * expiration are still served while a refresh runs in the background, and a
 * failed background refresh keeps them until they do expire;
 * `forceRefresh` fetches again. Concurrent callers share one fetch.
 */
function memoised(fetch: () => Promise<AwsCredentialIdentity>): MemoizedCredentialProvider {
  let credentials: AwsCredentialIdentity | undefined;
  let waited: Promise<AwsCredentialIdentity> | undefined;
  let forced: Promise<AwsCredentialIdentity> | undefined;
  let background: Promise<void> | undefined;
  const store = (fresh: AwsCredentialIdentity): AwsCredentialIdentity => (credentials = fresh);

  return async (options) => {
    if (options?.forceRefresh) {
      forced ??= fetch()
        .then(store)
        .finally(() => (forced = undefined));
      return forced;
    }
    if (credentials?.expiration !== undefined && credentials.expiration.getTime() < Date.now()) credentials = undefined;
    if (credentials === undefined) {
      waited ??= fetch()
        .then(store)
        .finally(() => (waited = undefined));
      return waited;
    }
    if (credentialsTreatedAsExpired(credentials)) {
      background ??= fetch()
        .then(
          (fresh) => void store(fresh),
          // The credentials held are still valid: the next call tries again.
          () => undefined,
        )
        .finally(() => (background = undefined));
    }
    return credentials;
  };
}

/** The node chain's `defaultProvider`, as a deployed function needs it: same signature and memoisation. */
export const defaultProvider = (init: LambdaProviderInit = {}): MemoizedCredentialProvider => memoised(lambdaCredentials(init));
