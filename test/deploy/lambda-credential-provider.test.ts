import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CredentialsProviderError } from '@smithy/core/config';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { defaultProvider } from '../../deploy/lambda-credential-provider.js';

/*
 * The credential chain the deployed bundles carry in place of
 * @aws-sdk/credential-provider-node's (deploy/esbuild-plugins.cjs): the
 * execution role's credentials from the environment, then the container
 * credentials endpoint, memoised as the node chain memoises. The endpoint is
 * a real HTTP server on loopback serving the documented JSON.
 */

const VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CREDENTIAL_SCOPE',
  'AWS_ACCOUNT_ID',
  'AWS_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
] as const;

let saved: Record<string, string | undefined> = {};
let server: Server | undefined;
beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
});
afterEach(async () => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  server = undefined;
});

const inMinutes = (minutes: number): Date => new Date(Date.now() + minutes * 60_000);

function setEnvironmentCredentials(accessKeyId: string, extra: { sessionToken?: string; expiration?: Date } = {}): void {
  process.env.AWS_ACCESS_KEY_ID = accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = `${accessKeyId}-secret`;
  if (extra.sessionToken !== undefined) process.env.AWS_SESSION_TOKEN = extra.sessionToken;
  if (extra.expiration !== undefined) process.env.AWS_CREDENTIAL_EXPIRATION = extra.expiration.toISOString();
}

/** A container credentials endpoint on 127.0.0.1 answering each GET with `body`; what it was sent is kept. */
async function containerEndpoint(body: unknown): Promise<{ url: string; requests: Array<{ path: string | undefined; headers: IncomingHttpHeaders }> }> {
  const requests: Array<{ path: string | undefined; headers: IncomingHttpHeaders }> = [];
  server = createServer((request, response) => {
    requests.push({ path: request.url, headers: request.headers });
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}/2018-06-01/credentials`, requests };
}

describe('the Lambda credential chain (deploy/lambda-credential-provider.ts)', () => {
  it('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY alone: those keys, no session token, no expiration, and kept (nothing to refresh)', async () => {
    setEnvironmentCredentials('AKIDSTATIC');
    const provider = defaultProvider();

    const first = await provider();
    setEnvironmentCredentials('AKIDCHANGED');
    const second = await provider();

    expect(first).toMatchObject({ accessKeyId: 'AKIDSTATIC', secretAccessKey: 'AKIDSTATIC-secret' });
    expect(first.sessionToken).toBeUndefined();
    expect(first.expiration).toBeUndefined();
    expect(second.accessKeyId).toBe('AKIDSTATIC');
  });

  it("the execution role's keys with AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION an hour ahead: all of them, kept until five minutes before", async () => {
    const expiration = inMinutes(60);
    setEnvironmentCredentials('ASIAROLE', { sessionToken: 'role-session-token', expiration });
    const provider = defaultProvider();

    const first = await provider();
    setEnvironmentCredentials('ASIANEXT', { sessionToken: 'next-token', expiration: inMinutes(120) });

    expect(first).toMatchObject({ accessKeyId: 'ASIAROLE', secretAccessKey: 'ASIAROLE-secret', sessionToken: 'role-session-token' });
    expect(first.expiration?.getTime()).toBe(expiration.getTime());
    expect((await provider()).accessKeyId).toBe('ASIAROLE');
  });

  it('credentials expiring in 2 minutes: still served, and refreshed in the background (as credentialsTreatedAsExpired does)', async () => {
    setEnvironmentCredentials('ASIAOLD', { sessionToken: 'old', expiration: inMinutes(2) });
    const provider = defaultProvider();
    expect((await provider()).accessKeyId).toBe('ASIAOLD');

    setEnvironmentCredentials('ASIANEW', { sessionToken: 'new', expiration: inMinutes(60) });

    // The call that finds them within five minutes of expiring still gets them, and starts the refresh.
    expect((await provider()).accessKeyId).toBe('ASIAOLD');
    await vi.waitFor(async () => expect((await provider()).accessKeyId).toBe('ASIANEW'));
  });

  it('credentials whose AWS_CREDENTIAL_EXPIRATION has passed are never served: the next call waits for fresh ones', async () => {
    setEnvironmentCredentials('ASIAPAST', { sessionToken: 'past', expiration: inMinutes(-1) });
    const provider = defaultProvider();
    expect((await provider()).accessKeyId).toBe('ASIAPAST');

    setEnvironmentCredentials('ASIAFRESH', { sessionToken: 'fresh', expiration: inMinutes(60) });

    expect((await provider()).accessKeyId).toBe('ASIAFRESH');
  });

  it('forceRefresh reads the source again whatever is held', async () => {
    setEnvironmentCredentials('AKIDBEFORE');
    const provider = defaultProvider();
    await provider();
    setEnvironmentCredentials('AKIDAFTER');

    expect((await provider({ forceRefresh: true })).accessKeyId).toBe('AKIDAFTER');
    expect((await provider()).accessKeyId).toBe('AKIDAFTER');
  });

  it('concurrent first calls share one read of the container endpoint', async () => {
    const endpoint = await containerEndpoint({ AccessKeyId: 'ASIACONTAINER', SecretAccessKey: 'secret', Token: 'token', Expiration: inMinutes(60).toISOString() });
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = endpoint.url;
    const provider = defaultProvider();

    const all = await Promise.all([provider(), provider(), provider()]);

    expect(all.map(({ accessKeyId }) => accessKeyId)).toEqual(['ASIACONTAINER', 'ASIACONTAINER', 'ASIACONTAINER']);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('no key variables, AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN set (SnapStart): the endpoint is asked, with the token', async () => {
    const expiration = inMinutes(60);
    const endpoint = await containerEndpoint({ AccessKeyId: 'ASIACONTAINER', SecretAccessKey: 'container-secret', Token: 'container-token', Expiration: expiration.toISOString() });
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = endpoint.url;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'Bearer lambda-token';

    const credentials = await defaultProvider()();

    expect(credentials).toMatchObject({ accessKeyId: 'ASIACONTAINER', secretAccessKey: 'container-secret', sessionToken: 'container-token' });
    expect(credentials.expiration?.getTime()).toBe(expiration.getTime());
    expect(endpoint.requests).toEqual([{ path: '/2018-06-01/credentials', headers: expect.objectContaining({ authorization: 'Bearer lambda-token' }) }]);
  });

  it('both the key variables and the container endpoint set: the environment wins and the endpoint is not asked', async () => {
    const endpoint = await containerEndpoint({ AccessKeyId: 'ASIACONTAINER', SecretAccessKey: 'secret', Token: 'token', Expiration: inMinutes(60).toISOString() });
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = endpoint.url;
    setEnvironmentCredentials('ASIAENV', { sessionToken: 'env-token' });

    expect((await defaultProvider()()).accessKeyId).toBe('ASIAENV');
    expect(endpoint.requests).toEqual([]);
  });

  it('neither the key variables nor a container endpoint: a CredentialsProviderError naming what it read, and the chain stops there', async () => {
    // Only half of the keys: not credentials. A profile: not read by the deployed chain.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDHALF';
    process.env.AWS_PROFILE = 'developer';
    const provider = defaultProvider();

    const failure = await provider().then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(CredentialsProviderError);
    expect(failure).toMatchObject({ tryNextLink: false });
    const message = (failure as Error).message;
    for (const variable of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']) expect(message).toContain(variable);
    expect(message).toContain('deploy/lambda-credential-provider.ts');
  });
});
