import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CreateActionTargetCommand, DeleteActionTargetCommand, DescribeActionTargetsCommand } from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { actionTargetsHandler, CustomResourceResponseError, type CloudFormationCustomResourceEvent, type CloudFormationCustomResourceResponse } from '../../src/deploy/index.js';
import { resetEmulator } from '../support/emulator.js';
import { emulatorSecurityHub } from '../support/emulator-securityhub.js';

/**
 * The custom resource `Custom::SecurityHubActionTargets` against the
 * launcher's emulator: events shaped as CloudFormation sends them to a
 * Lambda-backed custom resource, the answer captured by a loopback HTTP
 * server standing in for the pre-signed S3 ResponseURL, and the account's
 * custom actions read back with DescribeActionTargets.
 */

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/riposte-prod/6f0e9a30-4b1c-11ef-9d0a-0a1b2c3d4e5f';
const PREFIX = 'arn:aws:securityhub:us-east-1:123456789012:action/custom/';
const ISOLATE = { Id: 'IsolateEc2', Name: 'Isolate instance', Description: 'Isolate and preserve an EC2 instance' };
const CIS = { Id: 'CisPasswordPolicy', Name: 'CIS password policy', Description: 'Set the CIS IAM password policy' };
const SSH = { Id: 'CloseAdminPorts', Name: 'Close SSH/RDP', Description: 'Close SSH/RDP' };

interface Captured {
  readonly contentType: string | undefined;
  readonly method: string | undefined;
  readonly body: CloudFormationCustomResourceResponse;
}

let server: Server;
let responseUrl: string;
let captured: Captured[] = [];
let answerStatus = 200;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      captured.push({ contentType: request.headers['content-type'], method: request.method, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as CloudFormationCustomResourceResponse });
      response.statusCode = answerStatus;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Shaped like CloudFormation's pre-signed S3 URL (a path and a signed query string).
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cloudformation-custom-resource-response-useast1/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/riposte-prod/x%7CSecurityHubActionTargets%7Cy?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(async () => {
  await resetEmulator();
  captured = [];
  answerStatus = 200;
});

let requestCount = 0;
function cfnEvent(requestType: 'Create' | 'Update' | 'Delete', actionTargets: unknown[], extra: { physicalResourceId?: string; oldActionTargets?: unknown[] } = {}): CloudFormationCustomResourceEvent {
  requestCount += 1;
  const serviceToken = 'arn:aws:lambda:us-east-1:123456789012:function:riposte-prod-actionTargets';
  return {
    RequestType: requestType,
    ServiceToken: serviceToken,
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: `5d0f8a54-0000-4000-8000-${String(requestCount).padStart(12, '0')}`,
    LogicalResourceId: 'SecurityHubActionTargets',
    ResourceType: 'Custom::SecurityHubActionTargets',
    ...(extra.physicalResourceId === undefined ? {} : { PhysicalResourceId: extra.physicalResourceId }),
    ResourceProperties: { ServiceToken: serviceToken, ActionTargets: actionTargets },
    ...(extra.oldActionTargets === undefined ? {} : { OldResourceProperties: { ServiceToken: serviceToken, ActionTargets: extra.oldActionTargets } }),
  } as CloudFormationCustomResourceEvent;
}

const handler = (): ReturnType<typeof actionTargetsHandler> => actionTargetsHandler({ securityHub: emulatorSecurityHub() });

async function liveTargets(): Promise<Array<{ ActionTargetArn?: string; Name?: string; Description?: string }>> {
  const { ActionTargets } = await emulatorSecurityHub().send(new DescribeActionTargetsCommand({}));
  return [...(ActionTargets ?? [])].sort((a, b) => (a.ActionTargetArn ?? '').localeCompare(b.ActionTargetArn ?? ''));
}

const target = (spec: { Id: string; Name: string; Description: string }): { ActionTargetArn: string; Name: string; Description: string } => ({
  ActionTargetArn: `${PREFIX}${spec.Id}`,
  Name: spec.Name,
  Description: spec.Description,
});

describe('Custom::SecurityHubActionTargets', () => {
  it('Create makes each listed action (IsolateEc2, CisPasswordPolicy) and answers SUCCESS by PUT to the ResponseURL', async () => {
    const answer = await handler()(cfnEvent('Create', [ISOLATE, { Id: CIS.Id, Name: CIS.Name }]));

    expect(await liveTargets()).toEqual([target({ ...CIS, Description: CIS.Name }), target(ISOLATE)]);
    expect(captured).toHaveLength(1);
    const [put] = captured;
    // The pre-signed URL is signed without a content type: the answer is sent with an empty one.
    expect(put).toMatchObject({ method: 'PUT', contentType: '' });
    expect(put?.body).toEqual(answer);
    expect(put?.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'riposte-action-targets',
      StackId: STACK_ID,
      LogicalResourceId: 'SecurityHubActionTargets',
      Data: { Created: 'IsolateEc2,CisPasswordPolicy', LeftAlone: '' },
    });
    expect(put?.body.RequestId).toMatch(/^5d0f8a54-/);
  });

  it('Create leaves a pre-existing action of another owner (IsolateEc2) alone, records it, and Delete never removes it', async () => {
    await emulatorSecurityHub().send(new CreateActionTargetCommand({ Id: 'IsolateEc2', Name: 'Theirs', Description: 'created by another team' }));

    const created = await handler()(cfnEvent('Create', [ISOLATE, CIS]));

    expect(created).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'riposte-action-targets:foreign=IsolateEc2', Data: { Created: 'CisPasswordPolicy', LeftAlone: 'IsolateEc2' } });
    expect(await liveTargets()).toEqual([target(CIS), { ActionTargetArn: `${PREFIX}IsolateEc2`, Name: 'Theirs', Description: 'created by another team' }]);

    // A rename in the template does not touch it either.
    await handler()(cfnEvent('Update', [{ ...ISOLATE, Name: 'Isolate EC2' }, CIS], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE, CIS] }));
    const deleted = await handler()(cfnEvent('Delete', [ISOLATE, CIS], { physicalResourceId: created.PhysicalResourceId }));

    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: 'CisPasswordPolicy', LeftAlone: 'IsolateEc2' } });
    expect(await liveTargets()).toEqual([{ ActionTargetArn: `${PREFIX}IsolateEc2`, Name: 'Theirs', Description: 'created by another team' }]);
  });

  it('Update renames IsolateEc2, adds CloseAdminPorts and removes CisPasswordPolicy, keeping the physical id', async () => {
    const created = await handler()(cfnEvent('Create', [ISOLATE, CIS]));
    const renamed = { ...ISOLATE, Name: 'Isolate EC2', Description: 'Isolate, snapshot and tag' };

    const updated = await handler()(cfnEvent('Update', [renamed, SSH], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE, CIS] }));

    // The physical id never changes, so CloudFormation never sends the clean-up Delete of a replacement.
    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId, Data: { Created: 'CloseAdminPorts', Updated: 'IsolateEc2', Deleted: 'CisPasswordPolicy' } });
    expect(await liveTargets()).toEqual([target(SSH), target(renamed)]);
  });

  it('is idempotent: the next Update with unchanged ActionTargets (what CloudFormation sends after a stack update) changes nothing', async () => {
    const created = await handler()(cfnEvent('Create', [ISOLATE]));
    await handler()(cfnEvent('Update', [ISOLATE, CIS], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE] }));

    const again = await handler()(cfnEvent('Update', [ISOLATE, CIS], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE, CIS] }));

    expect(again).toMatchObject({ Status: 'SUCCESS', Data: { Created: '', Updated: '', Deleted: '' } });
    expect(await liveTargets()).toEqual([target(CIS), target(ISOLATE)]);
  });

  it('a retried Update (Lambda delivering the same event again) fails safe, and the rollback removes what the first attempt created', async () => {
    const created = await handler()(cfnEvent('Create', [ISOLATE]));
    const update = cfnEvent('Update', [ISOLATE, CIS], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE] });
    await handler()(update);

    // CisPasswordPolicy now exists, and nothing records that this resource made it: it is not taken over.
    const retried = await handler()(update);
    expect(retried).toMatchObject({ Status: 'FAILED', PhysicalResourceId: created.PhysicalResourceId });
    // CloudFormation rolls back: an Update from the new properties to the old.
    const rollback = await handler()(cfnEvent('Update', [ISOLATE], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE, CIS] }));

    expect(rollback).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: 'CisPasswordPolicy' } });
    expect(await liveTargets()).toEqual([target(ISOLATE)]);
  });

  it('Update recreates one of its own actions deleted by hand', async () => {
    const created = await handler()(cfnEvent('Create', [ISOLATE]));
    await emulatorSecurityHub().send(new DeleteActionTargetCommand({ ActionTargetArn: `${PREFIX}IsolateEc2` }));

    const updated = await handler()(cfnEvent('Update', [ISOLATE], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE] }));

    expect(updated).toMatchObject({ Status: 'SUCCESS', Data: { Created: 'IsolateEc2' } });
    expect(await liveTargets()).toEqual([target(ISOLATE)]);
  });

  it('Update that newly lists an id another owner holds (CloseAdminPorts) answers FAILED and changes nothing', async () => {
    const created = await handler()(cfnEvent('Create', [ISOLATE]));
    await emulatorSecurityHub().send(new CreateActionTargetCommand({ Id: 'CloseAdminPorts', Name: 'Theirs', Description: 'another team' }));

    const answer = await handler()(cfnEvent('Update', [{ ...ISOLATE, Name: 'Renamed' }, SSH], { physicalResourceId: created.PhysicalResourceId, oldActionTargets: [ISOLATE] }));

    expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId: created.PhysicalResourceId });
    expect(answer.Reason).toContain(
      `ActionTargetConflictError [DEPLOY_ACTION_TARGET_NOT_OURS]: the Security Hub custom action ${PREFIX}CloseAdminPorts already exists and was not created by this stack`,
    );
    expect(await liveTargets()).toEqual([{ ActionTargetArn: `${PREFIX}CloseAdminPorts`, Name: 'Theirs', Description: 'another team' }, target(ISOLATE)]);
  });

  it('Delete removes only its own actions: an unrelated action (Triage) stays', async () => {
    await emulatorSecurityHub().send(new CreateActionTargetCommand({ Id: 'Triage', Name: 'Triage', Description: 'the SOC' }));
    const created = await handler()(cfnEvent('Create', [ISOLATE, CIS]));

    const deleted = await handler()(cfnEvent('Delete', [ISOLATE, CIS], { physicalResourceId: created.PhysicalResourceId }));

    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId, Data: { Deleted: 'IsolateEc2,CisPasswordPolicy' } });
    expect(await liveTargets()).toEqual([{ ActionTargetArn: `${PREFIX}Triage`, Name: 'Triage', Description: 'the SOC' }]);
    // Deleting again (CloudFormation retrying) is still a success.
    expect(await handler()(cfnEvent('Delete', [ISOLATE, CIS], { physicalResourceId: created.PhysicalResourceId }))).toMatchObject({ Status: 'SUCCESS' });
  });

  it('Delete of a physical id it never gave (a Create that did not answer) deletes nothing', async () => {
    await emulatorSecurityHub().send(new CreateActionTargetCommand(ISOLATE));

    const answer = await handler()(cfnEvent('Delete', [ISOLATE], { physicalResourceId: 'riposte-prod-SecurityHubActionTargets-1A2B3C' }));

    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '' } });
    expect(await liveTargets()).toEqual([target(ISOLATE)]);
  });

  it('Create of 51 actions answers FAILED before calling AWS: nothing created, and the rollback Delete removes nothing', async () => {
    const many = Array.from({ length: 51 }, (_, index) => ({ Id: `Action${index}`, Name: `Action ${index}`, Description: 'x' }));

    const answer = await handler()(cfnEvent('Create', many));

    expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'riposte-action-targets:nothing-created' });
    expect(answer.Reason).toContain('ResourceProperties.ActionTargets lists 51 custom actions; Security Hub allows at most 50 per account and region');
    expect(await liveTargets()).toEqual([]);
    await emulatorSecurityHub().send(new CreateActionTargetCommand(ISOLATE));
    expect(await handler()(cfnEvent('Delete', many, { physicalResourceId: answer.PhysicalResourceId }))).toMatchObject({ Status: 'SUCCESS' });
    expect(await liveTargets()).toEqual([target(ISOLATE)]);
  });

  it('Create that would pass 50 with the actions already in the account (46 + 5) answers FAILED and creates none', async () => {
    for (let index = 0; index < 46; index += 1) {
      await emulatorSecurityHub().send(new CreateActionTargetCommand({ Id: `Existing${index}`, Name: `Existing ${index}`, Description: 'x' }));
    }
    const five = Array.from({ length: 5 }, (_, index) => ({ Id: `Riposte${index}`, Name: `Riposte ${index}`, Description: 'x' }));

    const answer = await handler()(cfnEvent('Create', five));

    expect(answer).toMatchObject({ Status: 'FAILED' });
    expect(answer.Reason).toContain('creating 5 custom actions would make 51 in this account and region; Security Hub allows at most 50 (46 exist)');
    expect((await liveTargets()).filter((live) => live.ActionTargetArn?.includes('/Riposte'))).toEqual([]);
  });

  it.each([
    ['an Id with a hyphen', [{ Id: 'Isolate-Ec2', Name: 'Isolate' }], 'ResourceProperties.ActionTargets[0].Id must be 1–20 letters and digits'],
    ['a Name of 21 characters', [{ Id: 'Isolate', Name: 'n'.repeat(21) }], 'ResourceProperties.ActionTargets[0].Name must be 1–20 characters'],
    ['an Id listed twice', [ISOLATE, ISOLATE], 'ResourceProperties.ActionTargets[1].Id IsolateEc2 is listed twice'],
  ])('Create with %s answers FAILED naming the entry, and creates nothing', async (_name, targets, reason) => {
    const answer = await handler()(cfnEvent('Create', targets));

    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(reason);
    expect(await liveTargets()).toEqual([]);
  });

  it('throws CustomResourceResponseError when the ResponseURL refuses the answer (HTTP 403)', async () => {
    answerStatus = 403;

    const error: unknown = await handler()(cfnEvent('Create', [ISOLATE])).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CustomResourceResponseError);
    expect(error).toMatchObject({ retryable: true, context: { statusCode: 403 } });
  });
});
