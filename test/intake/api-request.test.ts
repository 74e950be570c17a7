import { describe, expect, it } from 'vitest';

import { InvalidApiRequestError, readApiGatewayEvent, readApiRequest } from '../../src/intake/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';

const alice = { principal: 'arn:aws:sts::999988887777:assumed-role/SecOpsResponder/alice@example.com', sourceIp: '203.0.113.42' };

describe('on-demand API request', () => {
  it('turns a request into a finding on the instance, triggered by api with who asked', () => {
    const result = readApiRequest(fixtureText('api-request.json'), alice, { requestId: 'req-1' });

    expect(result.rejected).toEqual([]);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({
      id: 'riposte-api/111122223333/us-east-1/i-0a1b2c3d4e5f60718/req-1',
      source: 'api',
      format: 'api-request',
      account: '111122223333',
      region: 'us-east-1',
      partition: 'aws',
      severity: { label: 'HIGH', basis: 'assumed' },
      description: 'Analyst ticket SEC-1234: suspected crypto-mining',
      resources: [
        {
          type: 'AwsEc2Instance',
          instanceId: 'i-0a1b2c3d4e5f60718',
          arn: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
          account: '111122223333',
          region: 'us-east-1',
        },
      ],
      trigger: {
        kind: 'api',
        requestedBy: alice,
        requestId: 'req-1',
        playbook: 'ec2-compromise-isolate',
        reason: 'Analyst ticket SEC-1234: suspected crypto-mining',
        dryRun: true,
      },
      raw: { envelope: { source: 'riposte.api', id: 'req-1' } },
    });
  });

  it('defaults dryRun to false and derives the partition from the region', () => {
    const [finding] = readApiRequest({ instanceId: 'i-0123abcd', account: '444455556666', region: 'us-gov-east-1' }, alice).findings;

    expect(finding?.trigger).toMatchObject({ kind: 'api', dryRun: false });
    expect(finding?.partition).toBe('aws-us-gov');
    expect(finding?.resources[0]?.arn).toBe('arn:aws-us-gov:ec2:us-gov-east-1:444455556666:instance/i-0123abcd');
  });

  it('rejects unknown fields by name', () => {
    const body = { ...fixture('api-request.json'), dryrun: true };

    expect(() => readApiRequest(body, alice)).toThrow(InvalidApiRequestError);
    expect(() => readApiRequest(body, alice)).toThrow(/"dryrun"/);
  });

  it.each([
    ['instanceId', 'i-123', 'instanceId'],
    ['instanceId', 'I-0A1B2C3D4E5F60718', 'instanceId'],
    ['account', '11112222333', 'account'],
    ['region', 'us-east', 'region'],
    ['playbook', 'Isolate Everything', 'playbook'],
    ['dryRun', 'yes', 'dryRun'],
  ])('rejects %s=%j naming the field', (key, value, field) => {
    const body = { ...fixture('api-request.json'), [key]: value };

    let error: unknown;
    try {
      readApiRequest(body, alice);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(InvalidApiRequestError);
    expect(error).toMatchObject({ field, source: 'api' });
  });

  it('refuses a request without who asked', () => {
    expect(() => readApiRequest(fixture('api-request.json'), { principal: ' ' })).toThrow(/requestedBy.principal/);
  });
});

describe('API Gateway event carrying an on-demand request', () => {
  it('takes who asked from the IAM identity API Gateway attached, never from the body', () => {
    const [finding] = readApiGatewayEvent(fixture('apigateway-api-request.json')).findings;

    expect(finding?.trigger).toMatchObject({
      kind: 'api',
      requestedBy: { principal: 'arn:aws:sts::999988887777:assumed-role/SecOpsResponder/alice@example.com', sourceIp: '203.0.113.42' },
      requestId: 'f3a1c2d4-5b6e-4f70-8a91-b2c3d4e5f607',
      dryRun: true,
    });
  });

  it('decodes a base64 body', () => {
    const event = fixture<{ body: string; isBase64Encoded: boolean }>('apigateway-api-request.json');
    event.body = Buffer.from(event.body).toString('base64');
    event.isBase64Encoded = true;

    expect(readApiGatewayEvent(event).findings[0]?.resources[0]?.instanceId).toBe('i-0a1b2c3d4e5f60718');
  });

  it('accepts an HTTP API (v2) event with an IAM authorizer', () => {
    const event = {
      version: '2.0',
      body: fixtureText('api-request.json'),
      isBase64Encoded: false,
      requestContext: {
        requestId: 'v2-req',
        http: { method: 'POST', path: '/respond', sourceIp: '198.51.100.7', userAgent: 'curl/8' },
        authorizer: { iam: { userArn: 'arn:aws:iam::999988887777:user/bob' } },
      },
    };

    expect(readApiGatewayEvent(event).findings[0]?.trigger).toMatchObject({
      requestedBy: { principal: 'arn:aws:iam::999988887777:user/bob', sourceIp: '198.51.100.7', userAgent: 'curl/8' },
      requestId: 'v2-req',
    });
  });
});
