import { randomUUID } from 'node:crypto';

import type { MetadataBearer, Pluggable, RetryStrategyV2 } from '@smithy/types';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

import { AwsClientFactory, type AwsClientFactoryOptions } from '../../src/aws/index.js';
import { loadConfig } from '../../src/config.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import {
  apiHandler,
  createLambdaRuntime,
  customActionHandler,
  findingsHandler,
  MemoryMetricsSink,
  resumeHandler,
  sqsRecordOf,
  type ApiGatewayProxyEvent,
  type LambdaContext,
  type LambdaRuntime,
  type SqsEvent,
  type SqsRecord,
} from '../../src/lambda/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import type { CompiledPlaybook } from '../../src/playbooks/index.js';
import { compiledLibraryFile } from '../support/compiled-library.js';
import { emulatorEndpoint } from '../support/emulator.js';
import { importEventFindings } from '../support/emulator-securityhub.js';
import { flakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { EVENT_BUS, EVIDENCE_BUCKET, LEDGER_TABLE, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';

/** The function names and queue ARNs a deployment gives, as the events and contexts carry them. */
const REGION = 'us-east-1';
const HOSTING = '123456789012';

export interface LambdaLabOptions {
  /** `RIPOSTE_AUTOMATIC`; `enforce` unless given. */
  readonly automatic?: 'off' | 'plan' | 'enforce';
  /** Variables left out of the environment (e.g. `RIPOSTE_EVIDENCE_BUCKET`, as a first deployment forgets it). */
  readonly without?: readonly string[];
  /** Playbooks instead of the packaged library (the compiled library at `RIPOSTE_PLAYBOOK_LIBRARY`). */
  readonly playbooks?: readonly CompiledPlaybook[];
  /** Variables set over the lab's own (e.g. `RIPOSTE_MAX_ATTEMPTS`). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Added to every client the handlers make, e.g. AWS throttling a share of the calls (test/support/throttling.ts). */
  readonly plugins?: readonly Pluggable<object, MetadataBearer>[];
  /** Each client's retry strategy instead of the SDK's adaptive one (see AwsClientFactoryOptions.retryStrategy). */
  readonly retryStrategy?: () => RetryStrategyV2;
}

export interface LambdaLab {
  /** The emulated resources (ledger table, bucket, topic, bus); its `findingUpdates()` lists the runtime's BatchUpdateFindings requests too. */
  readonly lab: PipelineLab;
  /** The runtime the handlers share, built by `createLambdaRuntime` from the environment a deployment gives the functions. */
  readonly runtime: LambdaRuntime;
  readonly environment: Readonly<Record<string, string>>;
  readonly metrics: MemoryMetricsSink;
  readonly logs: MemoryLogSink;
  /** Every AWS call goes through this proxy (serial: moto loses concurrent writes to one item); it can be taken down. */
  readonly proxy: FlakyProxy;
  readonly findings: ReturnType<typeof findingsHandler>;
  /** The custom-action handler, given the event once Security Hub holds its findings (an analyst chose them in Security Hub). */
  readonly customAction: ReturnType<typeof customActionHandler>;
  readonly api: ReturnType<typeof apiHandler>;
  readonly resume: ReturnType<typeof resumeHandler>;
  /**
   * Sends each body to the findings queue on the emulator and receives them back as the SQS event source hands them to Lambda.
   * The Security Hub findings a body's event carries are imported first: EventBridge sends an event about a finding Security Hub holds.
   */
  findingsBatch(bodies: readonly string[]): Promise<SqsEvent>;
  /** The resume requests the runs scheduled, received from the resume queue as a Lambda SQS event (their delays are waited out by asking again). */
  resumeBatch(expected: number): Promise<SqsEvent>;
  close(): Promise<void>;
}

/** A Lambda context as the Node.js runtime passes it, with `remainingMs` before its deadline. */
export function lambdaContext(remainingMs = 900_000, functionName = 'riposte-test-findings'): LambdaContext & Record<string, unknown> {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${HOSTING}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/03/14/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** The emulator's client options, with the lab's extra plugins and retry strategy. */
function clientOptions(options: LambdaLabOptions): AwsClientFactoryOptions {
  const emulator = emulatorClientOptions();
  return {
    ...emulator,
    plugins: [...(emulator.plugins ?? []), ...(options.plugins ?? [])],
    ...(options.retryStrategy === undefined ? {} : { retryStrategy: options.retryStrategy }),
  };
}

/**
 * The handlers as a deployment runs them, on this file's emulator: the
 * environment `serverless.yml` gives each function, fed to the cold-start
 * wiring (`createLambdaRuntime`: `loadConfig`, the compiled library read
 * from `RIPOSTE_PLAYBOOK_LIBRARY`, the DynamoDB ledger, the SQS resume queue),
 * with real queues for the findings and resume messages, and Security Hub
 * on the emulator (an event's findings imported as it enters the lab).
 */
export async function lambdaLab(options: LambdaLabOptions = {}): Promise<LambdaLab> {
  const lab = await pipelineLab();
  const proxy = await flakyProxy(emulatorEndpoint(), { serial: true });
  const direct = new AwsClientFactory({ region: REGION, endpoint: emulatorEndpoint(), maxAttempts: 2 }, emulatorClientOptions());
  const sqs = direct.create(SQSClient);
  const queue = async (name: string): Promise<{ url: string; arn: string }> => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    return { url, arn: Attributes?.QueueArn as string };
  };
  const findingsQueue = await queue('riposte-test-findings');
  const resumeQueue = await queue('riposte-test-resume');

  const environment: Record<string, string> = Object.fromEntries(
    Object.entries({
      AWS_REGION: REGION,
      RIPOSTE_AWS_ENDPOINT: proxy.endpoint,
      RIPOSTE_MAX_ATTEMPTS: '2',
      RIPOSTE_AUTOMATIC: options.automatic ?? 'enforce',
      RIPOSTE_LEDGER_TABLE: LEDGER_TABLE,
      RIPOSTE_RESUME_QUEUE_URL: resumeQueue.url,
      RIPOSTE_TOPIC_ARN: lab.topicArn,
      RIPOSTE_EVENT_BUS: EVENT_BUS,
      RIPOSTE_EVIDENCE_BUCKET: EVIDENCE_BUCKET,
      RIPOSTE_EXTERNAL_ID: 'riposte-test',
      RIPOSTE_PLAYBOOK_LIBRARY: await compiledLibraryFile(),
      // The analyst below, as a deployment names the responders' role in apiPrincipals.
      RIPOSTE_API_PRINCIPALS: 'arn:aws:iam::999988887777:role/SecOpsResponder',
      ...options.environment,
    }).filter(([name]) => !(options.without ?? []).includes(name)),
  );
  const logs = new MemoryLogSink();
  const metrics = new MemoryMetricsSink();
  const runtime = await createLambdaRuntime({
    environment,
    // The emulator's credentials (moto takes any signature); everything else from the environment.
    factory: lab.observe(new AwsClientFactory(loadConfig(environment).aws, clientOptions(options))),
    logger: new RiposteLogger({ logLevel: 'debug', stream: logs }),
    metrics,
    ...(options.playbooks === undefined ? {} : { playbooks: options.playbooks }),
  });
  const shared = (): Promise<LambdaRuntime> => Promise.resolve(runtime);
  const customAction = customActionHandler(shared);

  const receive = async (url: string, arn: string, expected: number): Promise<SqsEvent> => {
    const records: SqsRecord[] = [];
    // Delayed messages (a resume's DelaySeconds) appear when their delay has passed: ask until all have come, without a deadline of our own.
    while (records.length < expected) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
      for (const message of Messages ?? []) {
        records.push(sqsRecordOf(message, arn, REGION));
        // Taken off the queue at once: a test hands a record back itself, by feeding it to the handler again.
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
      }
    }
    return { Records: records };
  };

  return {
    lab,
    runtime,
    environment,
    metrics,
    logs,
    proxy,
    findings: findingsHandler(shared),
    async customAction(event, context) {
      await importEventFindings(event);
      return customAction(event, context);
    },
    api: apiHandler(shared),
    resume: resumeHandler(shared),
    async findingsBatch(bodies) {
      for (const body of bodies) await importEventFindings(body);
      for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: findingsQueue.url, MessageBody: body }));
      return receive(findingsQueue.url, findingsQueue.arn, bodies.length);
    },
    resumeBatch: (expected) => receive(resumeQueue.url, resumeQueue.arn, expected),
    async close() {
      await proxy.close();
      await lab.close();
    },
  };
}

/** The IAM identity API Gateway puts in the request context once it has checked a SigV4 signature. */
export const ANALYST = {
  accountId: '999988887777',
  caller: 'AROA4EXAMPLEANALYST5T:alice@example.com',
  user: 'AROA4EXAMPLEANALYST5T:alice@example.com',
  userArn: 'arn:aws:sts::999988887777:assumed-role/SecOpsResponder/alice@example.com',
  accessKey: 'ASIA4EXAMPLECALLER9Z',
  principalOrgId: 'o-a1b2c3d4e5',
  sourceIp: '203.0.113.42',
  userAgent: 'aws-cli/2.22.8 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6',
  cognitoIdentityPoolId: null,
  cognitoIdentityId: null,
  cognitoAuthenticationType: null,
  cognitoAuthenticationProvider: null,
} as const;

/** What `requestContext.identity` holds for a method without IAM authorization: where the request came from, no caller. */
export const NO_IAM_IDENTITY = {
  accountId: null,
  caller: null,
  user: null,
  userArn: null,
  accessKey: null,
  principalOrgId: null,
  sourceIp: '203.0.113.42',
  userAgent: 'curl/8.5.0',
  cognitoIdentityPoolId: null,
  cognitoIdentityId: null,
  cognitoAuthenticationType: null,
  cognitoAuthenticationProvider: null,
} as const;

export interface ProxyRequest {
  readonly method: string;
  /** The resource path, as API Gateway gives it (without the stage). */
  readonly path: string;
  readonly body?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  readonly identity?: Record<string, unknown> | null;
}

/** A REST API (v1) Lambda proxy event, as API Gateway sends it for a request to the `prod` stage. */
export function proxyEvent(request: ProxyRequest): ApiGatewayProxyEvent {
  const defaults: Record<string, string> = {
    Accept: 'application/json',
    Host: 'k7x2m9q4ab.execute-api.us-east-1.amazonaws.com',
    'User-Agent': ANALYST.userAgent,
    'X-Forwarded-For': '203.0.113.42, 130.176.12.34',
    'X-Forwarded-Proto': 'https',
    ...(request.body === undefined || request.body === null ? {} : { 'Content-Type': 'application/json' }),
  };
  // A header the request names (in any case) replaces the default of that name.
  const given = new Set(Object.keys(request.headers ?? {}).map((name) => name.toLowerCase()));
  const headers: Record<string, string> = { ...Object.fromEntries(Object.entries(defaults).filter(([name]) => !given.has(name.toLowerCase()))), ...request.headers };
  const runMatch = /^\/runs\/([^/]+)(\/rollback)?$/.exec(request.path);
  const resource = runMatch === null ? request.path : `/runs/{id}${runMatch[2] ?? ''}`;
  return {
    resource,
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    pathParameters: runMatch === null ? null : { id: runMatch[1] },
    requestContext: {
      resourceId: 'q3w9zk',
      resourcePath: resource,
      httpMethod: request.method,
      requestTime: '14/Mar/2026:09:21:07 +0000',
      path: `/prod${request.path}`,
      accountId: HOSTING,
      protocol: 'HTTP/1.1',
      stage: 'prod',
      domainPrefix: 'k7x2m9q4ab',
      requestTimeEpoch: Date.now(),
      requestId: randomUUID(),
      identity: request.identity === undefined ? { ...ANALYST } : request.identity,
      domainName: 'k7x2m9q4ab.execute-api.us-east-1.amazonaws.com',
      apiId: 'k7x2m9q4ab',
    },
    body: request.body ?? null,
    isBase64Encoded: false,
  };
}
