import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loopbackServer } from '../../src/cli/demo/api-gateway.js';
import type { ApiGatewayProxyEvent } from '../../src/lambda/index.js';
import { compromisedInstance, type CompromisedInstance } from '../support/pipeline-lab.js';
import { ANALYST, lambdaContext, lambdaLab, NO_IAM_IDENTITY, proxyEvent, type LambdaLab } from './lambda-lab.js';

const MEMBER = '222222222222';

/**
 * API Gateway in front of the real handler, on loopback: each HTTP request
 * becomes a REST (v1) proxy event. The identity is what API Gateway puts in
 * the request context after IAM authorization: the analyst's for a request
 * signed with the analyst's access key, none otherwise (as for a method
 * deployed without IAM). The signature itself is not verified here —
 * API Gateway does that before the function runs; what the handler must
 * enforce is that a request without an identity gets nothing.
 */
function apiGateway(lab: LambdaLab): Promise<{ url: string; close(): Promise<void> }> {
  return loopbackServer((request) => {
    const signedBy = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\//.exec(request.headers.authorization ?? '')?.[1];
    const event: ApiGatewayProxyEvent = proxyEvent({
      method: request.method,
      path: request.path,
      body: request.body,
      headers: request.headers,
      identity: signedBy === ANALYST.accessKey ? { ...ANALYST } : { ...NO_IAM_IDENTITY },
    });
    return lab.api(event, lambdaContext(30_000, 'riposte-test-api'));
  });
}

/** A SigV4 Authorization header with the analyst's access key (what the gateway above reads to choose the identity). */
const SIGNED = {
  Authorization: `AWS4-HMAC-SHA256 Credential=${ANALYST.accessKey}/20260314/us-east-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
  'X-Amz-Date': '20260314T092107Z',
};

let lab: LambdaLab;
let gateway: { url: string; close(): Promise<void> };
let instance: CompromisedInstance;

beforeAll(async () => {
  lab = await lambdaLab();
  instance = await compromisedInstance(lab.lab.clients, MEMBER);
  gateway = await apiGateway(lab);
});
afterAll(async () => {
  await gateway?.close();
  await lab?.close();
});

async function call(
  method: string,
  path: string,
  options: { body?: string; json?: unknown; headers?: Record<string, string>; signed?: boolean } = {},
): Promise<{ status: number; body: ApiAnswer; headers: Headers }> {
  const body = options.json === undefined ? options.body : JSON.stringify(options.json);
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { ...(options.signed === false ? {} : SIGNED), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as ApiAnswer, headers: response.headers };
}

/** What the API answers, as far as these tests read it. */
interface ApiAnswer {
  readonly error?: { readonly code: string; readonly message: string; readonly field?: string };
  readonly runId?: string;
  readonly correlationId?: string;
  readonly run?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

const valid = (): Record<string, unknown> => ({ instanceId: instance.instanceId, account: MEMBER, region: 'us-east-1' });

describe('the API over HTTP (loopback gateway → real handler → emulator)', () => {
  it('answers 403 to a request with no IAM identity, whatever the body says', async () => {
    const response = await call('POST', '/respond', { json: valid(), signed: false });

    expect(response.status).toBe(403);
    expect(response.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining('no IAM identity'), field: 'requestContext.identity' } });
  });

  it.each([
    ['instanceId', { instanceId: 'i-123' }],
    ['instanceId', { instanceId: 'i-0A1B2C3D4E5F60718' }],
    ['account', { account: '11112222333' }],
    ['region', { region: 'us-east' }],
    ['region', { region: 'xx-fake-1' }],
    ['playbook', { playbook: 'Isolate Everything' }],
    ['playbook', { playbook: 'cis-password-policy' }],
    ['dryRun', { dryRun: 'yes' }],
    ['reason', { reason: '' }],
    ['requestedBy', { requestedBy: 'arn:aws:iam::111122223333:user/someone-else' }],
    ['instanceId', { instanceId: undefined }],
  ])('answers 400 naming %s for %j', async (field, change) => {
    const response = await call('POST', '/respond', { json: { ...valid(), ...change } });

    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.stringContaining(field), field } });
  });

  it.each([
    ['a body that is not JSON', { body: '{"instanceId": ' }, 'body'],
    ['no body', {}, 'body'],
    ['a JSON array', { body: '[]' }, 'body'],
  ])('answers 400 for %s', async (_name, options, field) => {
    const response = await call('POST', '/respond', { ...options, headers: { 'Content-Type': 'application/json' } });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'INVALID_REQUEST', field } });
  });

  it('answers 413 to a body over 16 KB, before reading it', async () => {
    const response = await call('POST', '/respond', { json: { ...valid(), reason: 'x'.repeat(17 * 1024) } });

    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', field: 'body' } });
  });

  it('answers 415 to a body sent as text/plain', async () => {
    const response = await call('POST', '/respond', { body: JSON.stringify(valid()), headers: { 'Content-Type': 'text/plain' } });

    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type' } });
  });

  it('answers 405 with Allow to GET /respond and DELETE /runs/{id}, 404 to an unknown route', async () => {
    const get = await call('GET', '/respond');
    const remove = await call('DELETE', '/runs/r-20260314T092107Z-0123456789ab');
    const unknown = await call('GET', '/instances');

    expect([get.status, remove.status, unknown.status]).toEqual([405, 405, 404]);
    expect(get.headers.get('allow')).toBe('POST');
    expect(remove.headers.get('allow')).toBe('GET');
    expect(get.body).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    expect(unknown.body).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('answers 400 naming id for a malformed run id, 404 for an unknown run', async () => {
    const malformed = await call('GET', '/runs/..%2F..%2Fetc');
    const unknown = await call('GET', '/runs/r-20260314T092107Z-0123456789ab');
    const rollback = await call('POST', '/runs/r-20260314T092107Z-0123456789ab/rollback', { json: { reason: 'test' } });
    const rollbackField = await call('POST', '/runs/r-20260314T092107Z-0123456789ab/rollback', { json: { force: true } });

    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST', field: 'id' } } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'RUN_NOT_FOUND', field: 'id' } } });
    expect(rollback).toMatchObject({ status: 404, body: { error: { code: 'RUN_NOT_FOUND' } } });
    expect(rollbackField).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST', field: 'force' } } });
  });

  it('answers 404 naming instanceId for an instance AWS does not show', async () => {
    const response = await call('POST', '/respond', { json: { ...valid(), instanceId: 'i-0fedcba9876543210' } });

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: { code: 'INSTANCE_NOT_FOUND', field: 'instanceId' }, runId: expect.stringMatching(/^r-/) });
  });

  it('answers 202 with the run id, then 409 naming that run to the same request while it is in progress; GET /runs/{id} shows it', async () => {
    const accepted = await call('POST', '/respond', { json: { ...valid(), reason: 'ticket SEC-1234' } });
    const conflict = await call('POST', '/respond', { json: valid() });
    const shown = await call('GET', `/runs/${accepted.body.runId}`);

    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ runId: expect.stringMatching(/^r-/), requestedBy: ANALYST.userArn, runs: [{ status: 'in-progress' }] });
    expect(accepted.headers.get('x-correlation-id')).toBe(accepted.body.correlationId);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: { code: 'RUN_IN_PROGRESS' }, runId: accepted.body.runId });
    expect(shown.status).toBe(200);
    expect(shown.body.run).toMatchObject({ runId: accepted.body.runId, trigger: 'api', finding: { trigger: { requestedBy: { principal: ANALYST.userArn } } } });
  });
});
