import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { deployedBundleOptions } from '../../deploy/bundle-options.js';
import { emulatorEndpoint } from '../support/emulator.js';
import { root } from './serverless-config.js';

/*
 * AWS errors as a function bundle reads them, where each SDK error class is
 * made by one call (deploy/esbuild-plugins.cjs, sdkErrorClassesCompact) and
 * json-rules-engine runs on Node's events: the same calls, refused by the
 * emulator, are made through a bundle built with serverless.yml's options and
 * through the SDK as published, and each error is the same: its class (the
 * `instanceof` the actions test, e.g. elb.deregister-instance's
 * TargetGroupNotFoundException), name, fault, message, status and fields.
 * One call per protocol and per kind of errors module: query (IAM, SNS, the
 * two load balancers, whose classes carry no shapeId), JSON (DynamoDB, KMS,
 * SSM, SQS) and REST-XML (S3).
 */

const ENTRY = `import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException as TableNotFound } from '@aws-sdk/client-dynamodb';
import { DescribeInstanceHealthCommand, ElasticLoadBalancingClient, AccessPointNotFoundException } from '@aws-sdk/client-elastic-load-balancing';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, TargetGroupNotFoundException } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetRoleCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient, NotFoundException as KeyNotFound } from '@aws-sdk/client-kms';
import { GetObjectCommand, NoSuchBucket, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand, NotFoundException as TopicNotFound, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { Engine } from 'json-rules-engine';

const CALLS = [
  ['iam', IAMClient, () => new GetRoleCommand({ RoleName: 'riposte-absent' }), NoSuchEntityException],
  ['dynamodb', DynamoDBClient, () => new DescribeTableCommand({ TableName: 'riposte-absent' }), TableNotFound],
  ['elb', ElasticLoadBalancingClient, () => new DescribeInstanceHealthCommand({ LoadBalancerName: 'riposte-absent' }), AccessPointNotFoundException],
  ['elbv2', ElasticLoadBalancingV2Client, () => new DescribeTargetHealthCommand({ TargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/riposte-absent/0123456789abcdef' }), TargetGroupNotFoundException],
  ['kms', KMSClient, () => new DescribeKeyCommand({ KeyId: '11111111-2222-3333-4444-555555555555' }), KeyNotFound],
  ['s3', S3Client, () => new GetObjectCommand({ Bucket: 'riposte-absent-bucket', Key: 'k' }), NoSuchBucket, S3ServiceException],
  ['sns', SNSClient, () => new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:riposte-absent' }), TopicNotFound],
  ['sqs', SQSClient, () => new GetQueueUrlCommand({ QueueName: 'riposte-absent' }), QueueDoesNotExist],
  ['ssm', SSMClient, () => new GetParameterCommand({ Name: 'riposte-absent' }), ParameterNotFound],
];

/** Each call's error, as what the functions can see of it. */
export async function refusals(endpoint) {
  const seen = {};
  for (const [service, Client, command, ErrorClass, Base] of CALLS) {
    const client = new Client({ region: 'us-east-1', endpoint, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    try {
      await client.send(command());
      seen[service] = 'no error';
    } catch (error) {
      // Every field but those of one request (its id, and S3's host id) and the raw response.
      const fields = Object.fromEntries(Object.keys(error).filter((key) => !['$metadata', '$response', 'RequestId', 'HostId'].includes(key)).map((key) => [key, error[key]]));
      seen[service] = {
        instanceOf: error instanceof ErrorClass,
        baseInstanceOf: Base === undefined ? undefined : error instanceof Base,
        prototype: Object.getPrototypeOf(error) === ErrorClass.prototype,
        name: error.name,
        fault: error.$fault,
        message: error.message,
        status: error.$metadata?.httpStatusCode,
        fields,
      };
    } finally {
      client.destroy();
    }
  }
  return seen;
}

/** json-rules-engine's answer on one rule that holds and one that does not. */
export async function rulesEngineRun() {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addRule({ name: 'holds', conditions: { all: [{ fact: 'kind', operator: 'equal', value: 'instance' }] }, event: { type: 'playbook-matched', params: { playbookId: 'holds' } } });
  engine.addRule({ name: 'fails', conditions: { all: [{ fact: 'control', operator: 'equal', value: 'EC2.1' }] }, event: { type: 'playbook-matched', params: { playbookId: 'fails' } } });
  const { results, failureResults } = await engine.run({ kind: 'instance' });
  return { results: results.map((result) => [result.name, result.conditions]), failures: failureResults.map((result) => result.name) };
}
`;

type Probe = { refusals: (endpoint: string) => Promise<Record<string, unknown>>; rulesEngineRun: () => Promise<unknown> };

let directory: string;
let deployed: Probe;
let published: Probe;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-sdk-errors-bundle-'));
  const stdin = { contents: ENTRY, resolveDir: root, loader: 'js' as const, sourcefile: 'refusals.js' };
  await build({ ...deployedBundleOptions(root), stdin, outfile: join(directory, 'deployed.js'), logLevel: 'error' });
  // The same code on the packages as published for require: their CommonJS builds, bundled as they are.
  await build({ stdin, bundle: true, format: 'cjs', platform: 'node', target: 'node22', outfile: join(directory, 'published.js'), logLevel: 'error' });
  const load = createRequire(import.meta.url);
  deployed = load(join(directory, 'deployed.js')) as Probe;
  published = load(join(directory, 'published.js')) as Probe;
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('AWS errors and the rules engine in the functions’ build', () => {
  it('reads each refusal as the published SDK does: the class an action tests with instanceof, name, fault, message, status and fields', async () => {
    const expected = await published.refusals(emulatorEndpoint());
    // Every call is refused with the modelled error it names (else the comparison would prove little).
    for (const [service, error] of Object.entries(expected)) expect(error, service).toMatchObject({ instanceOf: true, prototype: true });

    expect(await deployed.refusals(emulatorEndpoint())).toEqual(expected);
  });

  it('matches rules as json-rules-engine with eventemitter2 does', async () => {
    expect(await deployed.rulesEngineRun()).toEqual(await published.rulesEngineRun());
  });
});
