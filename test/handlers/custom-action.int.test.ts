import { DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';

import { RIPOSTE_NOTE_AUTHOR } from '../../src/actions/index.js';
import { RiposteMetric } from '../../src/lambda/index.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { compromisedInstance, eventFor, libraryPlaybooks, playbooksFromYaml, type CompromisedInstance } from '../support/pipeline-lab.js';
import { lambdaContext, lambdaLab, type LambdaLab } from './lambda-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

/** Bound to another custom action, matching the very same findings as the library's isolation playbook. */
const PROTECT = `
id: protect-on-request
title: Protect an instance from termination when an analyst asks
triggers:
  customAction: { id: ProtectEc2, name: Protect instance }
match:
  product.id: guardduty
  resource.type: AwsEc2Instance
steps:
  - ec2.enable-termination-protection: {}
`;

let lab: LambdaLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** The custom-action fixture about `instance`, naming action `actionId`. */
function customActionEvent(instance: CompromisedInstance, actionId: string, actionName: string): Record<string, unknown> {
  return eventFor('securityhub-custom-action.json', MEMBER, {
    'i-0a1b2c3d4e5f60718': instance.instanceId,
    'web-prod-instance-profile': instance.profileArn.split('/').pop() as string,
    'action/custom/IsolateEc2': `action/custom/${actionId}`,
    '"actionName": "Isolate instance"': `"actionName": "${actionName}"`,
  });
}

async function state(ec2: EC2Client, instance: CompromisedInstance): Promise<{ protectedFromTermination: boolean; groups: string[] }> {
  const { DisableApiTermination } = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return {
    protectedFromTermination: DisableApiTermination?.Value === true,
    groups: [...new Set((NetworkInterfaces ?? []).flatMap((eni) => (eni.Groups ?? []).map((group) => group.GroupId as string)))].sort(),
  };
}

const originalGroups = (instance: CompromisedInstance): string[] => [...new Set(Object.values(instance.interfaces).flat())].sort();

describe('custom-action handler (EventBridge → Lambda)', () => {
  it('runs only the playbook bound to action IsolateEc2, not the one bound to ProtectEc2 that matches the same finding', async () => {
    lab = await lambdaLab({ automatic: 'off', playbooks: [...(await libraryPlaybooks()), ...playbooksFromYaml(PROTECT)] });
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);

    const event = customActionEvent(instance, 'IsolateEc2', 'Isolate instance');
    const outcome = await lab.customAction(event, lambdaContext(900_000, 'riposte-test-custom-action'));

    expect(outcome.runs.map((run) => [run.playbookId, run.status])).toEqual([['ec2-compromise-isolate', 'succeeded']]);
    const after = await state(ec2, instance);
    expect(after.groups).toHaveLength(1);
    expect(after.groups).not.toEqual(originalGroups(instance));
    const record = await lab.runtime.ledger.getRun(outcome.runs[0]?.runId as string);
    // The deployment's automatic mode (off here) does not hold back an analyst's choice.
    expect(record).toMatchObject({ trigger: 'custom-action', mode: 'enforce', status: 'succeeded' });
    expect(await lab.runtime.ledger.listRunsForFinding(record?.findingId as string)).toHaveLength(1);
    // The finding the analyst chose, read back from Security Hub: the run's note, and RESOLVED.
    const held = await readEventFinding(event);
    expect(held?.Workflow?.Status).toBe('RESOLVED');
    expect(held?.Note).toMatchObject({
      UpdatedBy: RIPOSTE_NOTE_AUTHOR,
      Text: expect.stringMatching(new RegExp(`^\\[riposte run ${outcome.runs[0]?.runId as string} playbook ec2-compromise-isolate\\] RESOLVED`)),
    });
    expect(lab.lab.findingUpdates()).toHaveLength(1);
  });

  it('runs only the playbook bound to action ProtectEc2: the instance is protected from termination and not isolated', async () => {
    lab = await lambdaLab({ automatic: 'off', playbooks: [...(await libraryPlaybooks()), ...playbooksFromYaml(PROTECT)] });
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);

    const event = customActionEvent(instance, 'ProtectEc2', 'Protect instance');
    const outcome = await lab.customAction(event, lambdaContext(900_000, 'riposte-test-custom-action'));

    expect(outcome.runs.map((run) => [run.playbookId, run.status])).toEqual([['protect-on-request', 'succeeded']]);
    expect(await state(ec2, instance)).toEqual({ protectedFromTermination: true, groups: originalGroups(instance) });
    expect(lab.metrics.total(RiposteMetric.Runs, 'succeeded')).toBe(1);
    expect((await readEventFinding(event))?.Note?.Text).toMatch(new RegExp(`^\\[riposte run ${outcome.runs[0]?.runId as string} playbook protect-on-request\\] RESOLVED`));
  });

  it('runs nothing for action UnboundAction that no playbook names', async () => {
    lab = await lambdaLab({ automatic: 'enforce' });
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);

    const event = customActionEvent(instance, 'UnboundAction', 'Unbound');
    const outcome = await lab.customAction(event, lambdaContext(900_000, 'riposte-test-custom-action'));

    expect(outcome.runs).toEqual([]);
    expect(await state(ec2, instance)).toEqual({ protectedFromTermination: false, groups: originalGroups(instance) });
    // Read back: the finding is left as Security Hub had it (NEW, no note).
    const held = await readEventFinding(event);
    expect([held?.Workflow?.Status, held?.Note]).toEqual(['NEW', undefined]);
    expect(lab.lab.findingUpdates()).toEqual([]);
  });

  it('drops an automatic GuardDuty event sent to the custom-action function, and an event that is not JSON, without throwing', async () => {
    lab = await lambdaLab({ automatic: 'enforce' });
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const automatic = eventFor('guardduty-ec2-backdoor.json', MEMBER, { 'i-0a1b2c3d4e5f60718': instance.instanceId });

    const first = await lab.customAction(automatic, lambdaContext(900_000, 'riposte-test-custom-action'));
    const second = await lab.customAction('{"not": json', lambdaContext(900_000, 'riposte-test-custom-action'));

    expect(first).toMatchObject({ runs: [], dropped: expect.stringContaining('is not a custom action') });
    expect(second).toMatchObject({ runs: [], dropped: expect.stringContaining('not valid JSON') });
    expect(lab.metrics.total(RiposteMetric.MalformedRecordsDropped)).toBe(2);
    expect(await state(ec2, instance)).toEqual({ protectedFromTermination: false, groups: originalGroups(instance) });
  });
});
