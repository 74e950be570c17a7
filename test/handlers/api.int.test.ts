import { DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';

import type { ApiGatewayProxyResult } from '../../src/lambda/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { compromisedInstance, type CompromisedInstance } from '../support/pipeline-lab.js';
import { ANALYST, lambdaContext, lambdaLab, proxyEvent, type LambdaLab } from './lambda-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: LambdaLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const context = (): ReturnType<typeof lambdaContext> => lambdaContext(30_000, 'riposte-test-api');
const bodyOf = (response: ApiGatewayProxyResult): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;

async function groups(ec2: EC2Client, instance: CompromisedInstance): Promise<Record<string, string[]>> {
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return Object.fromEntries((NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId as string, (eni.Groups ?? []).map((group) => group.GroupId as string).sort()]));
}
const original = (instance: CompromisedInstance): Record<string, string[]> => Object.fromEntries(Object.entries(instance.interfaces).map(([eni, ids]) => [eni, [...ids].sort()]));

describe('API handler (API Gateway REST v1 proxy events)', () => {
  it('POST /respond answers 202 with the run id, records who asked from the request context, and the resume function isolates the instance; GET /runs/{id} then shows it succeeded; POST /runs/{id}/rollback puts the groups back', async () => {
    lab = await lambdaLab({ automatic: 'plan' });
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const request = { instanceId: instance.instanceId, account: MEMBER, region: 'us-east-1', reason: 'ticket SEC-1234' };

    const response = await lab.api(proxyEvent({ method: 'POST', path: '/respond', body: JSON.stringify(request) }), context());

    expect(response.statusCode).toBe(202);
    const accepted = bodyOf(response) as { runId: string; requestedBy: string; runs: Array<{ playbookId: string; status: string; mode: string }> };
    expect(accepted.requestedBy).toBe(ANALYST.userArn);
    // The API's time budget (28 s) is under the pipeline's 30 s margin: the steps are the resume function's.
    expect(accepted.runs).toEqual([expect.objectContaining({ playbookId: 'ec2-compromise-isolate', status: 'in-progress', mode: 'enforce' })]);
    const started = (await lab.runtime.ledger.getRun(accepted.runId)) as RunRecord;
    expect(started).toMatchObject({ trigger: 'api', status: 'in-progress' });
    expect((started.finding as { trigger: unknown }).trigger).toMatchObject({
      kind: 'api',
      requestedBy: { principal: ANALYST.userArn, sourceIp: ANALYST.sourceIp, userAgent: ANALYST.userAgent },
      reason: 'ticket SEC-1234',
    });
    expect(await groups(ec2, instance)).toEqual(original(instance));

    // While it runs, the same request is a conflict naming the run.
    const again = await lab.api(proxyEvent({ method: 'POST', path: '/respond', body: JSON.stringify(request) }), context());
    expect(again.statusCode).toBe(409);
    expect(bodyOf(again)).toMatchObject({ error: { code: 'RUN_IN_PROGRESS' }, runId: accepted.runId });
    // …and a rollback of it is refused.
    const early = await lab.api(proxyEvent({ method: 'POST', path: `/runs/${accepted.runId}/rollback` }), context());
    expect(early.statusCode).toBe(409);
    expect(bodyOf(early)).toMatchObject({ error: { code: 'ROLLBACK_REFUSED' }, runId: accepted.runId });

    const resumed = await lab.resume(await lab.resumeBatch(1), lambdaContext(900_000, 'riposte-test-resume'));
    expect(resumed).toEqual({ batchItemFailures: [] });
    const isolated = await groups(ec2, instance);
    expect(new Set(Object.values(isolated).flat()).size).toBe(1);
    const { DisableApiTermination } = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
    expect(DisableApiTermination?.Value).toBe(true);

    const shown = await lab.api(proxyEvent({ method: 'GET', path: `/runs/${accepted.runId}` }), context());
    expect(shown.statusCode).toBe(200);
    const run = (bodyOf(shown) as { run: Record<string, unknown> }).run;
    expect(run).toMatchObject({ runId: accepted.runId, status: 'succeeded', trigger: 'api', outcome: { workflowStatus: 'RESOLVED' } });
    expect(run).not.toHaveProperty('receivedEvent');
    expect(JSON.stringify(run)).toContain(ANALYST.userArn);
    // An API run's finding is Riposte's own, not one Security Hub holds: there is no note to write.
    expect(bodyOf(shown)).toMatchObject({ findingUpdate: { securityHub: 'skipped' } });

    const rollback = await lab.api(proxyEvent({ method: 'POST', path: `/runs/${accepted.runId}/rollback`, body: JSON.stringify({ reason: 'false positive' }) }), context());
    expect(rollback.statusCode).toBe(202);
    expect(bodyOf(rollback)).toMatchObject({ rollbackOf: accepted.runId, status: 'succeeded', requestedBy: ANALYST.userArn });
    expect(await groups(ec2, instance)).toEqual(original(instance));
    expect(await lab.runtime.ledger.getRun(accepted.runId)).toMatchObject({ status: 'rolled-back' });
    const undo = (await lab.runtime.ledger.getRun((bodyOf(rollback) as { runId: string }).runId)) as RunRecord;
    expect(undo.receivedEvent).toMatchObject({ rollbackOf: accepted.runId, requestedBy: ANALYST.userArn, reason: 'false positive' });
  });

  it('POST /respond with dryRun answers 202 with the plan and changes nothing', async () => {
    lab = await lambdaLab();
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);

    const response = await lab.api(
      proxyEvent({
        method: 'POST',
        path: '/respond',
        body: JSON.stringify({ instanceId: instance.instanceId, account: MEMBER, region: 'us-east-1', playbook: 'ec2-compromise-isolate', dryRun: true }),
      }),
      context(),
    );

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toMatchObject({ runs: [{ playbookId: 'ec2-compromise-isolate', status: 'succeeded', mode: 'plan' }] });
    expect(await groups(ec2, instance)).toEqual(original(instance));
  });

  it('POST /respond for an instance AWS does not show answers 404 naming instanceId', async () => {
    lab = await lambdaLab();
    await compromisedInstance(lab.lab.clients, MEMBER);

    const response = await lab.api(proxyEvent({ method: 'POST', path: '/respond', body: JSON.stringify({ instanceId: 'i-0123456789abcdef0', account: MEMBER, region: 'us-east-1' }) }), context());

    expect(response.statusCode).toBe(404);
    expect(bodyOf(response)).toMatchObject({ error: { code: 'INSTANCE_NOT_FOUND', field: 'instanceId', message: expect.stringContaining('i-0123456789abcdef0') } });
  });

  it('GET /runs/{id} of a run the ledger does not hold answers 404; POST /runs/{id}/rollback too', async () => {
    lab = await lambdaLab();

    const shown = await lab.api(proxyEvent({ method: 'GET', path: '/runs/r-20260314T092107Z-0123456789ab' }), context());
    const rolled = await lab.api(proxyEvent({ method: 'POST', path: '/runs/r-20260314T092107Z-0123456789ab/rollback' }), context());

    expect([shown.statusCode, rolled.statusCode]).toEqual([404, 404]);
    expect(bodyOf(shown)).toMatchObject({ error: { code: 'RUN_NOT_FOUND', field: 'id' } });
    expect(bodyOf(rolled)).toMatchObject({ error: { code: 'RUN_NOT_FOUND', field: 'id' } });
  });
});
