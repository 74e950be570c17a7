import { AttachRolePolicyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, CreateAccessKeyCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { deployedBundleOptions } from '../../deploy/bundle-options.js';
import { emulatorClientFactory, emulatorEndpoint, setIamEnforcement } from '../support/emulator.js';
import { root } from './serverless-config.js';

/*
 * A function bundle built as serverless.yml builds it (custom.esbuild, so its
 * credential chain is deploy/lambda-credential-provider.ts), run in a fresh
 * Node process with only the environment Lambda gives, sending one real call
 * to the emulator. moto checks every signature here (IAM enforcement on),
 * and GetCallerIdentity answers whose credentials signed: the read-back.
 */

/** One SDK client, imported as the handlers import theirs; the endpoint comes from AWS_ENDPOINT_URL_STS. */
const ENTRY = "import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';\nexport const handler = async () => (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn;\n";
const RUN_ONCE = `require(process.argv[1]).handler().then(
  (arn) => process.stdout.write(String(arn)),
  (error) => { process.stderr.write(error.name + ': ' + error.message); process.exit(1); })`;

const ACCOUNT = '123456789012';
const ROLE = 'riposte-dev-findings';
const SESSION = 'riposte-dev-findings-session';

let directory: string;
let bundle: string;
/** The execution role's session credentials, as Lambda would put them in the environment. */
let role: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
/** A user's long-term keys, written to a profile the deployed chain must not read. */
let profileKeys: { accessKeyId: string; secretAccessKey: string };
let server: Server | undefined;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-bundle-credentials-'));
  bundle = join(directory, 'sts-entry.js');
  await build({ ...deployedBundleOptions(root), stdin: { contents: ENTRY, resolveDir: root, loader: 'ts', sourcefile: 'sts-entry.ts' }, outfile: bundle, logLevel: 'error' });

  const factory = emulatorClientFactory();
  const iam = factory.create(IAMClient);
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] };
  await iam.send(new CreateRoleCommand({ RoleName: ROLE, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' }] };
  const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'caller-identity', PolicyDocument: JSON.stringify(policy) }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: ROLE, PolicyArn: Policy?.Arn }));
  const { Credentials } = await factory.create(STSClient).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`, RoleSessionName: SESSION }));
  role = {
    accessKeyId: Credentials?.AccessKeyId as string,
    secretAccessKey: Credentials?.SecretAccessKey as string,
    sessionToken: Credentials?.SessionToken as string,
    expiration: Credentials?.Expiration as Date,
  };

  await iam.send(new CreateUserCommand({ UserName: 'developer' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'developer' }));
  profileKeys = { accessKeyId: AccessKey?.AccessKeyId as string, secretAccessKey: AccessKey?.SecretAccessKey as string };

  // From here on moto refuses any call whose signature is not made with the secret of the key it names.
  await setIamEnforcement(true);
});
afterEach(async () => {
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  server = undefined;
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** The bundle run once in a fresh process whose environment is `variables` (plus PATH and a HOME of its own). */
async function runBundle(variables: Record<string, string>, home?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const environment = { PATH: process.env.PATH ?? '', HOME: home ?? directory, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_STS: emulatorEndpoint(), ...variables };
  return new Promise((resolve) => {
    // --no-warnings: the SDK warns on every Node older than 22 (the tests may run on 20); Lambda runs nodejs22.x.
    execFile(process.execPath, ['--no-warnings', '-e', RUN_ONCE, bundle], { env: environment, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

const assumedRoleArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/${SESSION}`;

describe('a deployed bundle signs with the credentials Lambda gives it (against the emulator, signatures checked)', () => {
  it("the execution role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN: GetCallerIdentity answers the assumed role", async () => {
    const run = await runBundle({ AWS_ACCESS_KEY_ID: role.accessKeyId, AWS_SECRET_ACCESS_KEY: role.secretAccessKey, AWS_SESSION_TOKEN: role.sessionToken });

    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(assumedRoleArn);
  });

  it('the same key with a wrong AWS_SECRET_ACCESS_KEY: the emulator refuses the signature (so the call above was signed with the secret from the environment)', async () => {
    const run = await runBundle({ AWS_ACCESS_KEY_ID: role.accessKeyId, AWS_SECRET_ACCESS_KEY: `${role.secretAccessKey}x`, AWS_SESSION_TOKEN: role.sessionToken });

    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('SignatureDoesNotMatch');
  });

  it('no key variables, AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN naming a loopback endpoint: the role credentials it serves sign the call', async () => {
    const asked: Array<string | undefined> = [];
    server = createServer((request, response) => {
      asked.push(request.headers.authorization);
      const body = { AccessKeyId: role.accessKeyId, SecretAccessKey: role.secretAccessKey, Token: role.sessionToken, Expiration: role.expiration.toISOString() };
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/2018-06-01/credentials`;

    const run = await runBundle({ AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'lambda-authorization-token' });

    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(assumedRoleArn);
    expect(asked).toEqual(['lambda-authorization-token']);
  });

  it('no key variables and a default profile in ~/.aws/credentials (what the SDK chain would use): the bundle reads no profile and says what it read', async () => {
    const home = join(directory, 'home-with-profile');
    await mkdir(join(home, '.aws'), { recursive: true });
    await writeFile(join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = ${profileKeys.accessKeyId}\naws_secret_access_key = ${profileKeys.secretAccessKey}\n`);

    const run = await runBundle({ AWS_PROFILE: 'default' }, home);

    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^CredentialsProviderError: No credentials for this function: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });
});
