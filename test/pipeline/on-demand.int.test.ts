import { DescribeIamInstanceProfileAssociationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';

import { readApiRequest } from '../../src/intake/index.js';
import type { PipelineResult } from '../../src/pipeline/index.js';
import { onDemandPlaybook, teamPlaybook } from '../support/on-demand-playbooks.js';
import {
  compromisedInstance,
  interfaceGroups,
  onlyRun,
  originalGroups,
  pipelineLab,
  playbooksFromYaml,
  terminationProtected,
  type CompromisedInstance,
  type PipelineLab,
} from '../support/pipeline-lab.js';

/*
 * Issue 16, part 3, through the pipeline against the emulator: an on-demand
 * request runs the playbook whose match takes its account (a team's own),
 * or the library's default among several; it is refused, naming the
 * playbooks, when none takes it or the one it names does not; and a refused
 * request changes nothing in the member account and records no run.
 */

const TEAM_A = '211111111111';
const TEAM_B = '222222222222';
const OTHER = '233333333333';

/** Each playbook does something of its own, so the member account shows which one ran. */
const TEAM_PLAYBOOKS = `${teamPlaybook('A', [TEAM_A])}${teamPlaybook('B', [TEAM_B], { step: 'ec2.isolate' })}`;

/** Unrestricted for a request: its match names only what a request does not carry (the product) besides the instance type. */
const orgPlaybook = (api: string): string =>
  onDemandPlaybook('org-respond', 'Organisation on-demand response', '{ product.id: guardduty, resource.type: AwsEc2Instance }', { api, step: 'ec2.detach-instance-profile' });

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const ec2Of = (account: string): EC2Client => (lab as PipelineLab).clients.create(EC2Client, { account, region: 'us-east-1', partition: 'aws', correlationId: 'readback' });

async function respond(instance: CompromisedInstance, account: string, playbook?: string): Promise<PipelineResult> {
  const body = { instanceId: instance.instanceId, account, region: 'us-east-1', ...(playbook === undefined ? {} : { playbook }) };
  return (lab as PipelineLab).pipeline.handleIntake(readApiRequest(body, { principal: 'arn:aws:iam::999988887777:user/analyst' }));
}

async function profileAssociated(ec2: EC2Client, instance: CompromisedInstance): Promise<boolean> {
  const { IamInstanceProfileAssociations } = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] }));
  return (IamInstanceProfileAssociations ?? []).some((association) => association.State === 'associated');
}

/** What the member account shows of each playbook's change: A's protection, B's isolation, the organisation's profile removal. */
async function state(account: string, instance: CompromisedInstance): Promise<{ protected: boolean; isolated: boolean; profile: boolean }> {
  const ec2 = ec2Of(account);
  return {
    protected: await terminationProtected(ec2, instance.instanceId),
    isolated: JSON.stringify(await interfaceGroups(ec2, instance)) !== JSON.stringify(originalGroups(instance)),
    profile: await profileAssociated(ec2, instance),
  };
}

const untouched = { protected: false, isolated: false, profile: true };

describe('on-demand requests through the pipeline, with two teams’ playbooks restricted to their accounts', () => {
  it('runs team A’s playbook for its account (not team B’s); refuses another account and a named playbook whose match refuses the account, naming the candidates, and changes nothing', async () => {
    lab = await pipelineLab({ playbooks: playbooksFromYaml(TEAM_PLAYBOOKS) });
    const inA = await compromisedInstance(lab.clients, TEAM_A);
    const inOther = await compromisedInstance(lab.clients, OTHER);

    // Named, but B's match refuses A's account: refused before anything is read or changed.
    const named = await respond(inA, TEAM_A, 'team-b-respond');
    expect(named.findings[0]?.runs).toEqual([]);
    expect(named.findings[0]?.error).toMatchObject({
      name: 'OnDemandRefusedError',
      code: 'ON_DEMAND_REFUSED',
      context: { account: TEAM_A, playbook: 'team-b-respond', candidates: ['team-a-respond', 'team-b-respond'] },
    });
    expect(named.findings[0]?.error?.message).toContain(
      `playbook team-b-respond does not take the request for ${inA.instanceId} in account ${TEAM_A}, us-east-1: its match requires account in [${TEAM_B}]`,
    );
    expect(await state(TEAM_A, inA)).toEqual(untouched);

    // An account no team has: refused, naming the playbooks and what they require.
    const other = await respond(inOther, OTHER);
    expect(other.findings[0]?.runs).toEqual([]);
    expect(other.findings[0]?.error).toMatchObject({ code: 'ON_DEMAND_REFUSED', context: { account: OTHER, candidates: ['team-a-respond', 'team-b-respond'] } });
    expect(other.findings[0]?.error?.message).toContain(`team-a-respond (account in [${TEAM_A}]); team-b-respond (account in [${TEAM_B}])`);
    expect(await state(OTHER, inOther)).toEqual(untouched);
    expect(await lab.ledger.listRuns()).toEqual([]);

    // Team A's account, no playbook named: A's runs, and only A's.
    const result = await respond(inA, TEAM_A);
    const run = onlyRun(result.findings[0]?.runs);
    expect(run).toMatchObject({ playbookId: 'team-a-respond', status: 'succeeded', mode: 'enforce' });
    expect(await state(TEAM_A, inA)).toEqual({ protected: true, isolated: false, profile: true });
    const runs = await lab.ledger.listRuns();
    expect(runs.map((listed) => [listed.runId, listed.playbookId])).toEqual([[run.runId, 'team-a-respond']]);
    expect(await lab.ledger.getRun(run.runId as string)).toMatchObject({ trigger: 'api', status: 'succeeded', account: TEAM_A });
  });

  it('with an unrestricted playbook marked the default, runs the default for a request team A’s playbook takes too', async () => {
    lab = await pipelineLab({ playbooks: playbooksFromYaml(`${TEAM_PLAYBOOKS}${orgPlaybook('{ default: true }')}`) });
    const inA = await compromisedInstance(lab.clients, TEAM_A);

    const result = await respond(inA, TEAM_A);

    const run = onlyRun(result.findings[0]?.runs);
    expect(run).toMatchObject({ playbookId: 'org-respond', status: 'succeeded' });
    expect(await state(TEAM_A, inA)).toEqual({ protected: false, isolated: false, profile: false });
    expect((await lab.ledger.listRuns()).map((listed) => listed.playbookId)).toEqual(['org-respond']);
  });
});
