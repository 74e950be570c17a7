import { randomUUID } from 'node:crypto';

import type { MetadataBearer, Pluggable } from '@smithy/types';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { AwsClientFactory } from '../../src/aws/index.js';
import { loadConfig } from '../../src/config.js';
import {
  API_MAX_BODY_BYTES,
  ApiErrorCode,
  apiHandler,
  createLambdaRuntime,
  MemoryMetricsSink,
  type ApiGatewayProxyEvent,
  type ApiGatewayProxyResult,
  type LambdaContext,
  type LambdaRuntime,
} from '../../src/lambda/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import { compiledLibraryFile } from '../support/compiled-library.js';
import { propertyTimeout, runs } from '../support/fast-check.js';

/*
 * Issue 14, "Fuzzing": the API function (apiHandler, as handlers/api.ts
 * deploys it) given arbitrary API Gateway REST (v1) proxy events: any
 * method, path, headers, body (JSON or not, base64 or not, up to past the
 * 16 KB limit), identity (IAM or none, well formed or not). Whatever comes,
 * it answers — never throws — with a status from its documented set, a JSON
 * error body whose code goes with the status, and, for a 400, the field at
 * fault.
 *
 * In-process, with the runtime a deployment builds (createLambdaRuntime:
 * the configuration, the packaged library, the DynamoDB ledger, the
 * pipeline), whose every AWS call is refused before it is signed or sent
 * and counted: a request the API refuses (4xx) must have made none — it
 * never reached AWS, so nothing changed — and one that got past validation
 * reaches AWS, which here refuses, so it ends in a 5xx, never in an
 * answer that something was done. test/handlers/api*.int.test.ts drive
 * the same handler against the emulator, where requests succeed.
 */

const RUNS = runs(10_000);

const ANALYSTS_ACCOUNT = '999988887777';
const ANALYST_ARN = `arn:aws:sts::${ANALYSTS_ACCOUNT}:assumed-role/SecOpsResponder/alice@example.com`;
const TIMEOUT_MS = propertyTimeout(120_000);

/** The statuses handleApiRequest documents, and the error codes each may carry. */
const CODES_BY_STATUS: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [200, []],
  [202, []],
  [400, [ApiErrorCode.InvalidRequest]],
  [403, [ApiErrorCode.Forbidden]],
  [404, [ApiErrorCode.RouteNotFound, ApiErrorCode.RunNotFound, ApiErrorCode.InstanceNotFound]],
  [405, [ApiErrorCode.MethodNotAllowed]],
  [409, [ApiErrorCode.RunInProgress, ApiErrorCode.AlreadyHandled, ApiErrorCode.RollbackRefused]],
  [413, [ApiErrorCode.PayloadTooLarge]],
  [415, [ApiErrorCode.UnsupportedMediaType]],
  [500, [ApiErrorCode.Internal]],
  [503, [ApiErrorCode.Unavailable]],
]);

// ---------------------------------------------------------------------------
// A runtime whose AWS calls never leave the process
// ---------------------------------------------------------------------------

/** Every AWS call the handler tried, as `Client.Command`. */
const reached: string[] = [];

/** Refuses every AWS call at the first step of the SDK's stack (before retries, credentials, signing), recording it. */
const refuseAws: Pluggable<object, MetadataBearer> = {
  applyToStack: (stack) => {
    stack.add(
      (_next, context) => () => {
        const call = `${String(context.clientName)}.${String(context.commandName)}`;
        reached.push(call);
        throw new Error(`test: the API reached AWS (${call}); this test's AWS refuses every call`);
      },
      { step: 'initialize', name: 'riposteTestRefuseAws', priority: 'high' },
    );
  },
};

let handler: ReturnType<typeof apiHandler>;
let runtime: LambdaRuntime;

beforeAll(async () => {
  const environment = {
    AWS_REGION: 'us-east-1',
    // Nothing listens on port 9 (discard): were a call to get past the plugin, it would fail at once.
    RIPOSTE_AWS_ENDPOINT: 'http://127.0.0.1:9',
    RIPOSTE_MAX_ATTEMPTS: '1',
    RIPOSTE_LEDGER_TABLE: 'riposte-ledger',
    RIPOSTE_RESUME_QUEUE_URL: 'http://127.0.0.1:9/123456789012/riposte-resume',
    RIPOSTE_PLAYBOOK_LIBRARY: await compiledLibraryFile(),
    // The analysts' account, and one role in another: anyone else is refused (403), as is a caller without IAM.
    RIPOSTE_API_PRINCIPALS: `${ANALYSTS_ACCOUNT},arn:aws:iam::111122223333:role/Responder`,
  };
  runtime = await createLambdaRuntime({
    environment,
    factory: new AwsClientFactory(loadConfig(environment).aws, { plugins: [refuseAws], credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'fuzz' } }),
    logger: new RiposteLogger({ logLevel: 'error', stream: new MemoryLogSink() }),
    metrics: new MemoryMetricsSink(),
  });
  handler = apiHandler(() => Promise.resolve(runtime));
});

function lambdaContext(): LambdaContext {
  const deadline = Date.now() + 30_000;
  return {
    functionName: 'riposte-api',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:riposte-api',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
const ACCOUNT_ID = /^\d{12}$/;
const RUN_ID = /^r-\d{8}T\d{6}Z-[0-9a-f]{12}$/;
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sets an own, enumerable property even for `__proto__` (as JSON.parse makes one). */
function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Usually valid, sometimes nearly, sometimes anything, sometimes absent (undefined). */
function field(valid: fc.Arbitrary<Json>, nearMisses: readonly Json[]): fc.Arbitrary<Json | undefined> {
  return fc.oneof(
    { weight: 14, arbitrary: valid },
    { weight: 2, arbitrary: fc.constantFrom(...nearMisses) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** An on-demand request body: mostly the right fields, each sometimes wrong, absent, or joined by others. */
const respondBody: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    instanceId: field(fc.stringMatching(INSTANCE_ID), ['i-123', 'i-0A1B2C3D4E5F60718', ' i-0a1b2c3d4e5f60718', '', 'i-0a1b2c3d4e5f6071\u202e']),
    account: field(fc.stringMatching(ACCOUNT_ID), ['12345', '1111222233334', 111122223333, '', '11112222333\u0000']),
    region: field(fc.constantFrom('us-east-1', 'eu-west-3', 'us-gov-west-1', 'cn-north-1'), ['moon-1', 'US-EAST-1', 'us-east', 'xx-fake-1', '']),
    playbook: field(fc.constantFrom('ec2-compromise-isolate', 'cis-password-policy'), ['Isolate Now', '-x', 'x'.repeat(65), '', '__proto__', 'constructor']),
    reason: field(fc.string({ minLength: 1, maxLength: 40 }), ['', '   ', 'x'.repeat(1_001), '<script>alert(1)</script>', '\u001b[31mred\u001b[0m']),
    dryRun: field(fc.boolean(), ['yes', 'true', 1, 0, null]),
    extra: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Array<[string, Json]>>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.tuple(fc.oneof(fc.constantFrom('instanceID', 'requestedBy', 'principal', ...FORBIDDEN_KEYS), fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>),
          { minLength: 1, maxLength: 2 },
        ),
      },
    ),
  })
  .map(({ extra, ...fields }) => {
    const body: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) defineOwn(body, key, value);
    for (const [key, value] of extra) defineOwn(body, key, value);
    return body;
  });

/** The JSON text of a body, or text that is nearly JSON, or not at all. */
const bodyText: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 10, arbitrary: respondBody.map((body) => JSON.stringify(body)) },
  { weight: 2, arbitrary: fc.record({ reason: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', '  ', 'x'.repeat(1_001))) }, { requiredKeys: [] }).map((body) => JSON.stringify(body)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.constantFrom<string | null>(null, '', ' ', 'null', '[]', '{}', '{"instanceId": ', '{"__proto__": {"polluted": true}}', '\ufeff{}', '{"a":1}{"b":2}') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`) },
  // Around the 16 KB limit, in bytes: a reason of multi-byte characters passes it sooner than its length says.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: API_MAX_BODY_BYTES - 300, max: API_MAX_BODY_BYTES + 300 }), fc.constantFrom('x', 'é', '😀'))
      .map(([size, unit]) => JSON.stringify({ instanceId: 'i-0123456789abcdef0', account: '222222222222', region: 'us-east-1', reason: unit.repeat(Math.ceil(size / Buffer.byteLength(unit))) })),
  },
);

const runId = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(RUN_ID) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('r-20260314T092107Z-0123456789ab', 'r-20260314T092107Z-0123456789AB', 'r-2026', '..', '%2e%2e', '%E0%A4%A', '%00', 'r-20260314T092107Z-0123456789ab%2F', ' '),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 30 }).map((text) => encodeURIComponent(text)) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 30 }).filter((text) => !text.includes('/')) },
);

/** A path and the method its route takes (undefined for no route). */
const route: fc.Arbitrary<{ path: string; method: string | undefined }> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('/respond', '/respond/', '/respond//').map((path) => ({ path, method: 'POST' })) },
  { weight: 2, arbitrary: runId.map((id) => ({ path: `/runs/${id}`, method: 'GET' })) },
  { weight: 2, arbitrary: runId.map((id) => ({ path: `/runs/${id}/rollback`, method: 'POST' })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom('', '/', '//respond', '/RESPOND', '/respond/x', '/runs', '/runs/', '/runs//rollback', '/runs/a/b/rollback', '/prod/respond', '/respond?x=1', '/respond\n'),
        fc.string({ maxLength: 30 }),
      )
      .map((path) => ({ path, method: undefined })),
  },
);

/** A method other than the route's, or one no route takes. */
const otherMethod = fc.oneof(fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'post', 'Get', ''), fc.string({ maxLength: 8 }));

const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=UTF-8') },
  { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/jsonx', 'application/json-patch+json', 'application/x-www-form-urlencoded', '', ' application/json', 'json') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

/** Headers as API Gateway gives them: single values, and the same as lists (which may disagree when a client sent a header twice). */
const headers = fc
  .record({
    contentType: fc.option(contentType, { nil: undefined }),
    name: fc.constantFrom('Content-Type', 'content-type', 'CONTENT-TYPE'),
    extra: fc.dictionary(fc.oneof(fc.constantFrom('Accept', 'X-Forwarded-For', 'User-Agent', 'Authorization', ...FORBIDDEN_KEYS), fc.string({ maxLength: 10 })), fc.string({ maxLength: 30 }), {
      maxKeys: 3,
    }),
    shape: fc.oneof({ weight: 6, arbitrary: fc.constant('both') }, { weight: 1, arbitrary: fc.constantFrom('single', 'multi', 'none', 'disagree') }),
  })
  .map(({ contentType: type, name, extra, shape }) => {
    const single: Record<string, string> = {};
    for (const [key, value] of Object.entries(extra)) defineOwn(single, key, value);
    if (type !== undefined) single[name] = type;
    const multi: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(single)) defineOwn(multi, key, [value]);
    if (shape === 'disagree' && type !== undefined) multi[name] = ['text/plain', type];
    return {
      headers: shape === 'multi' || shape === 'none' ? null : single,
      multiValueHeaders: shape === 'single' || shape === 'none' ? null : multi,
    };
  });

/** `requestContext.identity`: IAM's (the only one that may pass), none, or a caller ARN of the wrong shape. */
const identity = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      userArn: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(ANALYST_ARN, `arn:aws:iam::${ANALYSTS_ACCOUNT}:user/alice`, 'arn:aws:sts::111122223333:assumed-role/Responder/bob') },
        // Signed, but by principals the deployment does not admit.
        { weight: 1, arbitrary: fc.constantFrom('arn:aws:iam::444455556666:user/mallory', 'arn:aws:sts::111122223333:assumed-role/Other/bob', 'arn:aws:iam::123456789012:root') },
      ),
      sourceIp: fc.constantFrom('203.0.113.42', '', '2001:db8::1'),
      userAgent: fc.oneof(fc.constant('aws-cli/2.22.8'), fc.string({ maxLength: 20 })),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ userArn: null, caller: null, sourceIp: '203.0.113.42', userAgent: 'curl/8.5.0' }) },
  {
    weight: 1,
    arbitrary: fc.record({
      userArn: fc.oneof(
        fc.constantFrom('', ' ', 'arn:aws:iam::12345:user/x', 'arn:aws:iam::999988887777:', 'arn:aws:s3:::bucket', `${ANALYST_ARN} `, `${ANALYST_ARN}\n`, 'arn:aws:iam::999988887777:user/a b'),
        fc.string({ maxLength: 40 }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
);

const proxyEvent: fc.Arbitrary<ApiGatewayProxyEvent> = fc
  .record({
    route,
    method: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: otherMethod }),
    headers,
    body: bodyText,
    base64: fc.constantFrom('no', 'no', 'no', 'encoded', 'flag-only'),
    identity,
    requestId: fc.oneof({ weight: 9, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.constant(undefined) }),
  })
  .map(({ route: { path: eventPath, method: routeMethod }, method: other, headers: { headers: single, multiValueHeaders }, body, base64, identity: who, requestId }) => {
    const httpMethod = other ?? routeMethod ?? 'POST';
    const encoded = base64 === 'encoded' && body !== null ? Buffer.from(body, 'utf8').toString('base64') : body;
    return {
      resource: eventPath,
      path: eventPath,
      httpMethod,
      headers: single,
      multiValueHeaders,
      queryStringParameters: null,
      pathParameters: null,
      requestContext: {
        ...(requestId === undefined ? {} : { requestId }),
        stage: 'prod',
        httpMethod,
        ...(who === undefined ? {} : { identity: who }),
      },
      body: encoded,
      isBase64Encoded: base64 !== 'no',
    };
  });

// ---------------------------------------------------------------------------
// What every answer must be
// ---------------------------------------------------------------------------

interface Tally {
  readonly byStatus: Map<number, number>;
  reachedAws: number;
}

async function answerChecked(event: ApiGatewayProxyEvent, tally: Tally): Promise<ApiGatewayProxyResult> {
  const context = lambdaContext();
  const before = reached.length;
  let response: ApiGatewayProxyResult;
  try {
    response = await handler(event, context);
  } catch (error) {
    throw new Error(`the API handler threw ${error instanceof Error ? error.name : typeof error}: ${String(error)}`, { cause: error });
  }
  const calls = reached.slice(before);

  expect(CODES_BY_STATUS.has(response.statusCode), `status ${response.statusCode}`).toBe(true);
  expect(response.headers['Content-Type']).toMatch(/^application\/json/);
  expect(response.headers['X-Correlation-Id']).toBe(event.requestContext.requestId ?? context.awsRequestId);
  const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
  if (response.statusCode >= 400) {
    expect(CODES_BY_STATUS.get(response.statusCode), response.body).toContain(body.error?.code);
    expect(typeof body.error?.message === 'string' && body.error.message !== '', response.body).toBe(true);
  }
  if (response.statusCode === 400) expect(typeof body.error?.field === 'string' && body.error.field !== '', `a 400 names the field at fault: ${response.body}`).toBe(true);
  if (response.statusCode === 405) expect(response.headers.Allow).toMatch(/^(GET|POST)(, (GET|POST))*$/);
  if (response.statusCode === 413)
    expect(Buffer.byteLength(event.isBase64Encoded === true ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8'))).toBeGreaterThan(API_MAX_BODY_BYTES);

  // A refused request never reached AWS; one that reached it met AWS refusing, and says it could not be handled.
  if (response.statusCode < 500) expect(calls, `${response.statusCode} ${response.body}`).toEqual([]);
  else expect(calls.length, `${response.statusCode} without an AWS call: ${response.body}`).toBeGreaterThan(0);
  expect(Object.keys(Object.prototype)).toEqual([]);

  tally.byStatus.set(response.statusCode, (tally.byStatus.get(response.statusCode) ?? 0) + 1);
  if (calls.length > 0) tally.reachedAws += 1;
  return response;
}

describe('apiHandler on arbitrary API Gateway REST events (property, issue 14)', () => {
  it(
    'answers every event with a documented status and a JSON body (a 400 names its field); a refused request reaches no AWS API',
    async () => {
      const tally: Tally = { byStatus: new Map(), reachedAws: 0 };

      await fc.assert(
        fc.asyncProperty(proxyEvent, async (event) => {
          await answerChecked(event, tally);
        }),
        { numRuns: RUNS },
      );

      // Not vacuous: each way of refusing was met, and some requests got as far as AWS.
      const seen = Object.fromEntries(tally.byStatus);
      for (const status of [400, 403, 404, 405, 413, 415]) expect(tally.byStatus.get(status) ?? 0, JSON.stringify(seen)).toBeGreaterThan(RUNS / 500);
      expect(tally.reachedAws, JSON.stringify(seen)).toBeGreaterThan(RUNS / 200);
    },
    TIMEOUT_MS,
  );
});

describe('apiHandler on arbitrary API Gateway REST events: found by the fuzz (regressions)', () => {
  const rollbackWith = (body: string): ApiGatewayProxyEvent => ({
    resource: '/runs/{id}/rollback',
    path: '/runs/r-20260314T092107Z-0123456789ab/rollback',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: { 'Content-Type': ['application/json'] },
    requestContext: { requestId: randomUUID(), identity: { userArn: ANALYST_ARN } },
    body,
    isBase64Encoded: false,
  });

  it('(control) a rollback body with an unknown named key is a 400 naming that key, before any AWS call', async () => {
    const tally: Tally = { byStatus: new Map(), reachedAws: 0 };

    const response = await answerChecked(rollbackWith('{"force": true}'), tally);

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'INVALID_REQUEST', field: 'force' } });
    expect(tally.reachedAws).toBe(0);
  });

  // Found by this fuzz (seed 413438955, run 723, shrunk): the field was named "" and the message began with a space.
  it('a rollback body with a key named "" ({"": null}) is a 400 naming the field [""]', async () => {
    const response = await handler(rollbackWith('{"":null}'), lambdaContext());

    expect(response.statusCode).toBe(400);
    const { error } = JSON.parse(response.body) as { error: { field: string; message: string } };
    expect(error.field).toBe('[""]');
    expect(error.message).toMatch(/^\[""\] is not a known field/);
  });
});
