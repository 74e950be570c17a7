import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';

import { deployedBundleOptions } from '../../deploy/bundle-options.js';
import { lambdaContext, lambdaLab, type LambdaLab } from '../handlers/lambda-lab.js';
import { compromisedInstance, guardDutyEventFor } from '../support/pipeline-lab.js';
import { root } from './serverless-config.js';

/*
 * The findings function as it is deployed: handlers/findings.ts built with
 * serverless.yml's esbuild options (minified without names, the Lambda
 * credential chain, Security Hub findings read as documents, jsonpath-plus
 * and the event-stream codec left out), loaded fresh, with only the
 * environment a deployment gives it, serving an SQS batch from the emulator.
 * The instance is read back isolated, and the run from the ledger: whatever
 * the build leaves out or renames, the whole mission still works.
 */

let lab: LambdaLab | undefined;
let directory: string | undefined;
const saved = { ...process.env };

afterEach(async () => {
  process.env = { ...saved };
  await lab?.close();
  lab = undefined;
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

type SqsHandler = (event: unknown, context: unknown) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

describe('the findings function’s deployed bundle', () => {
  it('isolates the instance of a GuardDuty event, records the run succeeded, and drops a malformed record by name', async () => {
    lab = await lambdaLab();
    const member = '222222222222';
    const instance = await compromisedInstance(lab.lab.clients, member);
    const batch = await lab.findingsBatch([JSON.stringify(guardDutyEventFor(member, instance)), '{"detail-type": "GuardDuty Finding", "source": ']);
    directory = await mkdtemp(join(tmpdir(), 'riposte-findings-bundle-'));
    const bundle = join(directory, 'findings.js');
    await build({ ...deployedBundleOptions(root), entryPoints: [join(root, 'handlers', 'findings.ts')], outfile: bundle, logLevel: 'error' });

    // What Lambda gives the function: the deployment's variables and the execution role's keys (the emulator takes any).
    process.env = {
      ...saved,
      ...lab.environment,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      RIPOSTE_LOG_LEVEL: 'error',
    };
    const { handler } = createRequire(import.meta.url)(bundle) as { handler: SqsHandler };
    const response = await handler(batch, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    const ec2 = lab.lab.clients.create(EC2Client, { account: member, region: 'us-east-1', partition: 'aws', correlationId: 'readback' });
    const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
    const groups = (NetworkInterfaces ?? []).flatMap((eni) => (eni.Groups ?? []).map((group) => group.GroupName));
    expect([...new Set(groups)]).toEqual(['riposte-quarantine-ssm']);
    const { DisableApiTermination } = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
    expect(DisableApiTermination?.Value).toBe(true);
    const runs = await lab.runtime.ledger.listRuns();
    expect(runs.map((run) => ({ playbook: run.playbookId, status: run.status }))).toEqual([{ playbook: 'ec2-compromise-isolate', status: 'succeeded' }]);
  });
});
