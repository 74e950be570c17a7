import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';

import { builtInActions, PREVIOUS_GROUPS_TAG, REVOKE_POLICY_NAME } from '../../src/actions/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { RollbackRefusedError, RunUnknownError } from '../../src/pipeline/index.js';
import { compromisedInstance, guardDutyEventFor, onlyRun, pipelineLab, type CompromisedInstance, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** Everything the isolation playbook changes, read back from the emulator. */
async function instanceState(current: PipelineLab, instance: CompromisedInstance) {
  const ec2 = current.clients.create(EC2Client, target);
  const iam = current.clients.create(IAMClient, target);
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  const termination = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  const shutdown = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }));
  const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] }));
  const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: instance.roleName }));
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance.instanceId] }));
  return {
    groups: Object.fromEntries((NetworkInterfaces ?? []).map((eni): [string, string[]] => [eni.NetworkInterfaceId ?? '', (eni.Groups ?? []).map((group) => group.GroupId ?? '').sort()])),
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    shutdownBehaviour: shutdown.InstanceInitiatedShutdownBehavior?.Value,
    profiles: (IamInstanceProfileAssociations ?? []).filter((association) => association.State === 'associated').map((association) => association.IamInstanceProfile?.Arn),
    rolePolicies: PolicyNames ?? [],
    previousGroupsTag: Reservations?.[0]?.Instances?.[0]?.Tags?.some((tag) => tag.Key === PREVIOUS_GROUPS_TAG) ?? false,
  };
}

describe('rollback of an isolation run', () => {
  it('restores every interface’s groups, the instance profile, termination protection and the role’s sessions, as a run of its own', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const before = await instanceState(lab, instance);
    const sortedOriginal = Object.fromEntries(Object.entries(instance.interfaces).map(([eni, groups]) => [eni, [...groups].sort()]));
    expect(before).toMatchObject({ groups: sortedOriginal, terminationProtection: false, profiles: [instance.profileArn], rolePolicies: [], previousGroupsTag: false });

    const event = guardDutyEventFor(MEMBER, instance);
    const isolation = onlyRun((await lab.pipeline.handleEvent(event, { correlationId: 'corr-isolate' })).findings[0]?.runs);
    expect(isolation.status).toBe('succeeded');
    const isolated = await instanceState(lab, instance);
    expect(isolated).toMatchObject({ terminationProtection: true, profiles: [], rolePolicies: [REVOKE_POLICY_NAME], previousGroupsTag: true });
    expect(new Set(Object.values(isolated.groups).flat()).size).toBe(1);
    const original = (await lab.ledger.getRun(isolation.runId as string)) as RunRecord;

    const rollback = await lab.pipeline.rollback(isolation.runId as string, { requestedBy: 'arn:aws:iam::123456789012:user/analyst', reason: 'false positive, INC-42' });

    // Every change with an undo, last step first: detach, revoke, protection, isolate. Evidence and unshared snapshots stay (no undo); an instance in no Auto Scaling group, behind no load balancer and not managed by Systems Manager had nothing changed there.
    const registry = builtInActions();
    const undoable = original.steps.filter((step) => step.phase === 'run' && step.status === 'changed' && step.undo !== undefined);
    expect(undoable.every((step) => registry.get(step.action).behaviour.rollback !== undefined)).toBe(true);
    expect(
      original.steps
        .filter((step) => step.phase === 'run' && step.undo === undefined)
        .map((step) => step.action)
        .sort(),
    ).toEqual(['autoscaling.standby-instance', 'ec2.capture-metadata', 'ec2.snapshot-volumes', 'elb.deregister-instance', 'ssm.collect-evidence']);
    // The steps ran side by side and were recorded as each ended; the rollback takes them last step first, whatever order they ended in.
    const expectedOrder = ['7:ec2.detach-instance-profile', '6:iam.revoke-role-sessions', '5:ec2.enable-termination-protection', '3:ec2.isolate'];
    expect(undoable.map((step) => `${step.index}:${step.action}`).sort()).toEqual([...expectedOrder].sort());
    expect(rollback).toMatchObject({ status: 'succeeded', mode: 'enforce', playbookId: 'ec2-compromise-isolate', summary: `rolled back run ${isolation.runId as string}: 4 changes undone` });
    expect(rollback.steps.map((step) => `${step.index}:${step.action}`)).toEqual(expectedOrder);

    // The state, read back: as it was before the isolation.
    expect(await instanceState(lab, instance)).toEqual(before);

    // The ledger: the rollback is its own run; the original is now rolled-back.
    const record = (await lab.ledger.getRun(rollback.runId as string)) as RunRecord;
    expect(record).toMatchObject({ status: 'succeeded', rollbackOf: isolation.runId, trigger: 'api', mode: 'enforce', correlationId: 'corr-isolate', findingId: original.findingId });
    expect(record.receivedEvent).toEqual({ rollbackOf: isolation.runId, requestedBy: 'arn:aws:iam::123456789012:user/analyst', reason: 'false positive, INC-42' });
    expect(record.steps.map((step) => `${step.index}:${step.action}:${step.phase}:${step.status}`)).toEqual(expectedOrder.map((step) => `${step}:rollback:changed`));
    expect(record.outcome?.details).toMatchObject({ rollbackOf: isolation.runId });
    const rolledBack = (await lab.ledger.getRun(isolation.runId as string)) as RunRecord;
    expect(rolledBack).toMatchObject({ status: 'rolled-back', outcome: { summary: `rolled back by run ${rollback.runId as string}` } });
    expect(rolledBack.steps).toEqual(original.steps);
    expect((await lab.ledger.listRunsForFinding(original.findingId)).map((run) => run.runId)).toEqual([isolation.runId, rollback.runId]);

    // Once is enough; a rollback is not itself rolled back; unknown runs are named.
    const again: unknown = await lab.pipeline.rollback(isolation.runId as string, { requestedBy: 'someone' }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(RollbackRefusedError);
    expect((again as Error).message).toContain('rolled-back');
    const ofRollback: unknown = await lab.pipeline.rollback(rollback.runId as string).catch((error: unknown) => error);
    expect(ofRollback).toBeInstanceOf(RollbackRefusedError);
    expect((ofRollback as Error).message).toContain(`rollback of run ${isolation.runId as string}`);
    const unknown: unknown = await lab.pipeline.rollback('r-20000101T000000Z-000000000000').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(RunUnknownError);
    expect((await lab.ledger.listRunsForFinding(original.findingId)).length).toBe(2);
    expect(await instanceState(lab, instance)).toEqual(before);
  });

  it('refuses to roll back a plan: it changed nothing', async () => {
    lab = await pipelineLab(); // automatic: plan
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const plan = onlyRun((await lab.pipeline.handleEvent(guardDutyEventFor(MEMBER, instance))).findings[0]?.runs);
    expect(plan).toMatchObject({ status: 'succeeded', mode: 'plan' });

    const refused: unknown = await lab.pipeline.rollback(plan.runId as string, { requestedBy: 'someone' }).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(RollbackRefusedError);
    expect((refused as Error).message).toContain('it was a plan');
    const record = (await lab.ledger.getRun(plan.runId as string)) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(await lab.ledger.listRunsForFinding(record.findingId)).toHaveLength(1);
  });
});
