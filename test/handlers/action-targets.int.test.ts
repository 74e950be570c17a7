import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { DescribeActionTargetsCommand } from '@aws-sdk/client-securityhub';
import { afterEach, describe, expect, it } from 'vitest';

import { handler } from '../../handlers/action-targets.js';
import { emulatorEndpoint } from '../support/emulator.js';
import { emulatorSecurityHub } from '../support/emulator-securityhub.js';

const SAVED = ['AWS_ENDPOINT_URL_SECURITYHUB', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const saved = Object.fromEntries(SAVED.map((name) => [name, process.env[name]]));

afterEach(() => {
  for (const name of SAVED) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('handlers/action-targets.ts', () => {
  it('serves a CloudFormation Create with the client the Lambda environment describes, and PUTs SUCCESS', async () => {
    // What Lambda gives the function (region, credentials); the endpoint points the SDK at the emulator.
    Object.assign(process.env, { AWS_ENDPOINT_URL_SECURITYHUB: emulatorEndpoint(), AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        bodies.push(body);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const event = {
        RequestType: 'Create' as const,
        ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=abc`,
        StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/riposte-dev/0a1b2c3d-0000-4000-8000-000000000001',
        RequestId: 'c2a7e8a0-0000-4000-8000-000000000001',
        LogicalResourceId: 'SecurityHubActionTargets',
        ResourceType: 'Custom::SecurityHubActionTargets',
        ResourceProperties: {
          ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:riposte-dev-actionTargets',
          ActionTargets: [{ Id: 'IsolateEc2', Name: 'Isolate instance', Description: 'Isolate' }],
        },
      };

      await handler(event);

      expect(bodies.map((body) => JSON.parse(body) as unknown)).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'riposte-action-targets', RequestId: event.RequestId })]);
      const { ActionTargets } = await emulatorSecurityHub().send(new DescribeActionTargetsCommand({}));
      expect(ActionTargets).toEqual([{ ActionTargetArn: 'arn:aws:securityhub:us-east-1:123456789012:action/custom/IsolateEc2', Name: 'Isolate instance', Description: 'Isolate' }]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
