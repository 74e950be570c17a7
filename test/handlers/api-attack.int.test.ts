import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { API_MAX_BODY_BYTES, type ApiGatewayProxyEvent } from '../../src/lambda/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { AccountCalls } from '../support/account-calls.js';
import { emulatorClientFactory } from '../support/emulator.js';
import { compromisedInstance, HOSTING_ACCOUNT, LEDGER_TABLE, type CompromisedInstance } from '../support/pipeline-lab.js';
import { ANALYST, lambdaContext, lambdaLab, NO_IAM_IDENTITY, proxyEvent, type LambdaLab, type ProxyRequest } from './lambda-lab.js';

/*
 * Issue 14, "the API under attack": requests that are unauthenticated,
 * malformed, oversized, with a wrong account format, or naming an unknown
 * playbook, run or instance are each refused with the right status, and
 * nothing changes. Every request goes to the real handler with the runtime a
 * deployment builds; what "nothing changes" means is read back after each:
 * no item in the ledger table, no AWS call in the member account (counted
 * by the credentials that signed it), no resume message; and at the end the
 * member's instance as it was, no Security Hub update, no SNS message.
 */

const MEMBER = '222222222222';
const REGION = 'us-east-1';

const calls = new AccountCalls(HOSTING_ACCOUNT);
let lab: LambdaLab;
let instance: CompromisedInstance;
let before: unknown;

const memberEc2 = (): EC2Client => lab.lab.clients.create(EC2Client, { account: MEMBER, region: REGION, partition: 'aws', correlationId: 'readback' });

/** What a response to the instance would change, read back from the emulator. */
async function instanceState(): Promise<unknown> {
  const ec2 = memberEc2();
  const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...instance.volumeIds] }] }));
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] }));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return {
    snapshots: Snapshots?.length ?? 0,
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    profiles: (IamInstanceProfileAssociations ?? []).filter((association) => association.State === 'associated').map((association) => association.IamInstanceProfile?.Arn),
    groups: Object.fromEntries((NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId, (eni.Groups ?? []).map((group) => group.GroupId).sort()])),
  };
}

/** Every item of the ledger table (runs, claims, leases), read from DynamoDB directly. */
async function ledgerItems(): Promise<number> {
  const { Count } = await emulatorClientFactory()
    .create(DynamoDBClient)
    .send(new ScanCommand({ TableName: LEDGER_TABLE, Select: 'COUNT', ConsistentRead: true }));
  return Count ?? 0;
}

/** Messages on the resume queue (a run scheduled for the resume function), visible or in flight. */
async function resumeMessages(): Promise<number> {
  const { Attributes } = await emulatorClientFactory()
    .create(SQSClient)
    .send(
      new GetQueueAttributesCommand({
        QueueUrl: lab.environment.RIPOSTE_RESUME_QUEUE_URL,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
  return Object.values(Attributes ?? {}).reduce((total, value) => total + Number(value), 0);
}

beforeAll(async () => {
  lab = await lambdaLab({ plugins: [calls.plugin] });
  instance = await compromisedInstance(lab.lab.clients, MEMBER);
  before = await instanceState();
});
afterAll(async () => {
  await lab?.close();
});

const valid = (): Record<string, unknown> => ({ instanceId: instance.instanceId, account: MEMBER, region: REGION });

/** A request with the analyst's identity unless one is given; `body` may be a function of the valid body. */
interface Attack {
  readonly request: Omit<ProxyRequest, 'body'> & { readonly body?: string | null | (() => string); readonly base64?: boolean };
  readonly status: number;
  readonly code: string;
  readonly field?: string;
}

const post = (body: () => string, extra: Partial<Attack['request']> = {}): Attack['request'] => ({ method: 'POST', path: '/respond', body, ...extra });
const withBody = (change: Record<string, unknown>) => (): string => JSON.stringify({ ...valid(), ...change });

const ATTACKS: ReadonlyArray<[string, Attack]> = [
  // Unauthenticated: API Gateway names no IAM caller (a method without IAM auth, an event not made by API Gateway).
  ['no IAM identity (a method without IAM authorization)', { request: post(withBody({}), { identity: { ...NO_IAM_IDENTITY } }), status: 403, code: 'FORBIDDEN', field: 'requestContext.identity' }],
  ['no identity at all', { request: post(withBody({}), { identity: null }), status: 403, code: 'FORBIDDEN', field: 'requestContext.identity' }],
  [
    'a Cognito identity, no IAM caller',
    {
      request: post(withBody({}), { identity: { ...NO_IAM_IDENTITY, cognitoIdentityId: 'us-east-1:0a1b2c3d-0000-4000-8000-0123456789ab', cognitoAuthenticationType: 'unauthenticated' } }),
      status: 403,
      code: 'FORBIDDEN',
      field: 'requestContext.identity',
    },
  ],
  ['a caller ARN that is no IAM ARN', { request: post(withBody({}), { identity: { ...ANALYST, userArn: 'alice@example.com' } }), status: 403, code: 'FORBIDDEN', field: 'requestContext.identity' }],
  [
    'a caller ARN with an 11-digit account',
    {
      request: post(withBody({}), { identity: { ...ANALYST, userArn: 'arn:aws:sts::99998888777:assumed-role/SecOpsResponder/alice' } }),
      status: 403,
      code: 'FORBIDDEN',
      field: 'requestContext.identity',
    },
  ],
  ['the caller named in the body only', { request: post(withBody({ requestedBy: ANALYST.userArn }), { identity: null }), status: 403, code: 'FORBIDDEN', field: 'requestContext.identity' }],
  // Signed, but by a principal the deployment does not admit (apiPrincipals names the SecOpsResponder role of 999988887777).
  [
    'another role of the admitted account',
    {
      request: post(withBody({}), { identity: { ...ANALYST, userArn: 'arn:aws:sts::999988887777:assumed-role/Developer/bob' } }),
      status: 403,
      code: 'FORBIDDEN',
      field: 'requestContext.identity.userArn',
    },
  ],
  [
    'the admitted role’s name in another account',
    {
      request: post(withBody({}), { identity: { ...ANALYST, userArn: 'arn:aws:sts::444455556666:assumed-role/SecOpsResponder/mallory' } }),
      status: 403,
      code: 'FORBIDDEN',
      field: 'requestContext.identity.userArn',
    },
  ],
  [
    'an IAM user of the admitted account',
    { request: post(withBody({}), { identity: { ...ANALYST, userArn: 'arn:aws:iam::999988887777:user/SecOpsResponder' } }), status: 403, code: 'FORBIDDEN', field: 'requestContext.identity.userArn' },
  ],
  // Malformed.
  ['a body that is not JSON', { request: post(() => '{"instanceId": '), status: 400, code: 'INVALID_REQUEST', field: 'body' }],
  ['a JSON array', { request: post(() => JSON.stringify([valid()])), status: 400, code: 'INVALID_REQUEST', field: 'body' }],
  ['a JSON string', { request: post(() => JSON.stringify(JSON.stringify(valid()))), status: 400, code: 'INVALID_REQUEST', field: 'body' }],
  ['JSON null', { request: post(() => 'null'), status: 400, code: 'INVALID_REQUEST', field: 'body' }],
  ['no body', { request: { method: 'POST', path: '/respond', headers: { 'Content-Type': 'application/json' } }, status: 400, code: 'INVALID_REQUEST', field: 'body' }],
  ['an unknown field', { request: post(withBody({ force: true })), status: 400, code: 'INVALID_REQUEST', field: 'force' }],
  ['a __proto__ field', { request: post(() => `{"__proto__":{"dryRun":false},${JSON.stringify(valid()).slice(1)}`), status: 400, code: 'INVALID_REQUEST', field: '__proto__' }],
  ['dryRun as a string', { request: post(withBody({ dryRun: 'false' })), status: 400, code: 'INVALID_REQUEST', field: 'dryRun' }],
  ['no instanceId', { request: post(withBody({ instanceId: undefined })), status: 400, code: 'INVALID_REQUEST', field: 'instanceId' }],
  [
    'an instance ARN for instanceId',
    { request: post(() => JSON.stringify({ ...valid(), instanceId: `arn:aws:ec2:${REGION}:${MEMBER}:instance/${instance.instanceId}` })), status: 400, code: 'INVALID_REQUEST', field: 'instanceId' },
  ],
  ['a region AWS does not have', { request: post(withBody({ region: 'us-east-9' })), status: 400, code: 'INVALID_REQUEST', field: 'region' }],
  ['an empty reason', { request: post(withBody({ reason: ' ' })), status: 400, code: 'INVALID_REQUEST', field: 'reason' }],
  ['a body sent as text/plain', { request: post(withBody({}), { headers: { 'Content-Type': 'text/plain' } }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type' }],
  [
    'a body sent as form data',
    {
      request: post(() => `instanceId=${instance.instanceId}&account=${MEMBER}`, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      field: 'Content-Type',
    },
  ],
  // Oversized.
  ['a body over 16 KB', { request: post(withBody({ reason: 'x'.repeat(API_MAX_BODY_BYTES) })), status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'body' }],
  ['a base64 body over 16 KB once decoded', { request: post(withBody({ reason: 'x'.repeat(API_MAX_BODY_BYTES) }), { base64: true }), status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'body' }],
  [
    'a body of 16 KB + 1 byte of multi-byte characters',
    { request: post(() => JSON.stringify({ ...valid(), reason: 'é'.repeat(API_MAX_BODY_BYTES / 2) })), status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'body' },
  ],
  ['a reason over 1000 characters (under 16 KB)', { request: post(withBody({ reason: 'x'.repeat(1_001) })), status: 400, code: 'INVALID_REQUEST', field: 'reason' }],
  // A wrong account format.
  ['an 11-digit account', { request: post(withBody({ account: MEMBER.slice(1) })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  ['a 13-digit account', { request: post(withBody({ account: `${MEMBER}2` })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  ['an account as a number', { request: post(withBody({ account: Number(MEMBER) })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  ['an account with a leading space', { request: post(withBody({ account: ` ${MEMBER}` })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  ['an account with a trailing newline', { request: post(withBody({ account: `${MEMBER}\n` })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  ['an account in full-width digits', { request: post(withBody({ account: '２２２２２２２２２２２２' })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  ['an account ARN', { request: post(withBody({ account: `arn:aws:iam::${MEMBER}:root` })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  ['a list of accounts', { request: post(withBody({ account: [MEMBER] })), status: 400, code: 'INVALID_REQUEST', field: 'account' }],
  // An unknown playbook.
  ['a playbook the library does not hold', { request: post(withBody({ playbook: 'no-such-playbook' })), status: 400, code: 'INVALID_REQUEST', field: 'playbook' }],
  ['a playbook that takes no on-demand requests', { request: post(withBody({ playbook: 'cis-password-policy' })), status: 400, code: 'INVALID_REQUEST', field: 'playbook' }],
  ['a playbook id shaped as a path', { request: post(withBody({ playbook: '../ec2-compromise-isolate' })), status: 400, code: 'INVALID_REQUEST', field: 'playbook' }],
  // Unknown routes, methods and runs.
  ['an unknown route', { request: { method: 'POST', path: '/respond/all' }, status: 404, code: 'ROUTE_NOT_FOUND' }],
  ['DELETE on a run', { request: { method: 'DELETE', path: '/runs/r-20260314T092107Z-0123456789ab' }, status: 405, code: 'METHOD_NOT_ALLOWED' }],
  ['a run id that is a path', { request: { method: 'GET', path: '/runs/..%2F..%2Fetc%2Fpasswd' }, status: 400, code: 'INVALID_REQUEST', field: 'id' }],
  ['an unknown run', { request: { method: 'GET', path: '/runs/r-20260314T092107Z-0123456789ab' }, status: 404, code: 'RUN_NOT_FOUND', field: 'id' }],
  ['the rollback of an unknown run', { request: { method: 'POST', path: '/runs/r-20260314T092107Z-0123456789ab/rollback' }, status: 404, code: 'RUN_NOT_FOUND', field: 'id' }],
];

function eventOf(request: Attack['request']): ApiGatewayProxyEvent {
  const text = typeof request.body === 'function' ? request.body() : request.body;
  const event = proxyEvent({ ...request, body: text === undefined || text === null ? text : request.base64 === true ? Buffer.from(text, 'utf8').toString('base64') : text });
  return request.base64 === true ? { ...event, isBase64Encoded: true } : event;
}

describe('the API refuses each attack with its status, and nothing changes', () => {
  it.each(ATTACKS)('%s', async (_name, attack) => {
    calls.clear();

    const response = await lab.api(eventOf(attack.request), lambdaContext(30_000, 'riposte-test-api'));

    expect(response.statusCode).toBe(attack.status);
    const body = JSON.parse(response.body) as { error: { code: string; field?: string } };
    expect(body.error.code).toBe(attack.code);
    if (attack.field !== undefined) expect(body.error.field).toBe(attack.field);
    // Nothing changed: no ledger item, no call at all in the member account, no run scheduled.
    expect(await ledgerItems()).toBe(0);
    expect(calls.in(MEMBER)).toEqual([]);
    expect(await resumeMessages()).toBe(0);
  });

  it('an instance the member account does not show: 404 naming instanceId; the member account is only read, and the refusal is recorded as a run that changed nothing', async () => {
    calls.clear();

    const response = await lab.api(
      proxyEvent({ method: 'POST', path: '/respond', body: JSON.stringify({ ...valid(), instanceId: 'i-0fedcba9876543210' }) }),
      lambdaContext(30_000, 'riposte-test-api'),
    );

    expect(response.statusCode).toBe(404);
    const body = JSON.parse(response.body) as { error: { code: string; field: string }; runId: string };
    expect(body.error).toMatchObject({ code: 'INSTANCE_NOT_FOUND', field: 'instanceId' });
    // Only reads (and the role to make them) in the member account; the counts are not blind (this request is seen).
    expect(calls.in(MEMBER).length).toBeGreaterThan(0);
    expect(calls.in(MEMBER).filter((call) => !/:(AssumeRole|Describe\w+|Get\w+|List\w+)Command$/.test(call.operation))).toEqual([]);
    // Who asked for what stays on record: one run, skipped, with no step.
    const run = (await lab.runtime.ledger.getRun(body.runId)) as RunRecord;
    expect(run).toMatchObject({ status: 'skipped', steps: [], outcome: { details: { guard: { code: 'target-stale' } } } });
    expect(await ledgerItems()).toBeGreaterThan(0);
    expect(await resumeMessages()).toBe(0);
  });

  it('after every refused request: the instance is as it was, Security Hub was never updated, no SNS message was sent', async () => {
    expect(await instanceState()).toEqual(before);
    expect(lab.lab.findingUpdates()).toEqual([]);
    expect(await lab.lab.sentNotifications()).toEqual([]);
  });
});
