import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { replayWorldSchema } from '../../src/cli/aws-replay.js';
import { replayCase } from '../../src/cli/golden-replay.js';
import { eventOfRawFinding } from '../../src/intake/index.js';
import { loadPlaybooks } from '../../src/playbooks/index.js';

/*
 * The isolation playbook's run against its shipped world, with each answer
 * taking a few milliseconds, so that calls sent at once share a round trip
 * (AwsReplay.rounds): the round trips before containment are what a
 * responder waits for.
 */

const CASE = join('playbooks', 'tests', 'ec2-compromise-isolate', 'guardduty-backdoor');

type Outcome = Awaited<ReturnType<typeof replayCase>>;

let shared: Promise<Outcome> | undefined;
/** The run, replayed once for the file: it is deterministic, and no test changes what it returns. */
const isolationRun = (): Promise<Outcome> => (shared ??= replayIsolation());

async function replayIsolation(): Promise<Outcome> {
  const { playbooks } = await loadPlaybooks('playbooks');
  const world = replayWorldSchema.parse(JSON.parse(readFileSync(`${CASE}.aws.json`, 'utf8')));
  const event = eventOfRawFinding(JSON.parse(readFileSync(`${CASE}.event.json`, 'utf8')), 'guardduty-backdoor.event.json');
  return replayCase(event, world, { automatic: 'enforce', excludedAccounts: [] }, playbooks, { latencyMs: 2 });
}

describe('the critical path of the isolation run', () => {
  it('plans every step at once: the first reads of all nine plans go out together, in one round trip after the target is resolved; the target-free listings go beside the resolution', async () => {
    const run = await isolationRun();
    const firstRound = (call: string): number | undefined => run.rounds.find((sent) => sent.call === call)?.round;
    const resolved = firstRound('ec2:DescribeInstances') as number;
    const volumes = firstRound('ec2:DescribeVolumes') as number;

    expect(run.missing).toEqual([]);
    expect(volumes).toBe(resolved + 1);
    for (const call of [
      'ec2:DescribeInstanceAttribute',
      'ec2:DescribeVpcEndpoints',
      'ec2:DescribePrefixLists',
      'autoscaling:DescribeAutoScalingInstances',
      'iam:GetRolePolicy',
      'ssm:DescribeInstanceInformation',
    ]) {
      expect([call, firstRound(call)]).toEqual([call, volumes]);
    }
    // The endpoints' interfaces are read beside the endpoints, not after them (and again by the verification).
    expect(run.rounds.filter((sent) => sent.call === 'ec2:DescribeNetworkInterfaces' && JSON.stringify(sent.params).includes('vpc_endpoint')).map((sent) => sent.round)[0]).toBe(volumes);
    // The target group listing needs no target: it goes beside the resolution (ActionBehaviour.prefetch), so each group's targets are read with the other plans' reads.
    expect(firstRound('elasticloadbalancing:DescribeTargetGroups')).toBe(resolved);
    expect(firstRound('elasticloadbalancing:DescribeTargetHealth')).toBe(volumes);
  });

  it('contains the instance (its last interface moved to the quarantine group) within 6 round trips, the scale budget, with Standby and deregistration beside it', async () => {
    const run = await isolationRun();
    const contained = run.rounds.filter((sent) => sent.call === 'ec2:ModifyNetworkInterfaceAttribute').at(-1)?.round;
    const roundOf = (call: string): number | undefined => run.rounds.find((sent) => sent.call === call)?.round;

    expect(run.runs).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(contained).toBeLessThanOrEqual(6);
    // Out of service before the quarantine can fail a health check.
    expect(roundOf('autoscaling:EnterStandby')).toBeLessThan(contained as number);
    expect(roundOf('elasticloadbalancing:DeregisterTargets')).toBeLessThan(contained as number);
  });

  it('verifies every step at once: the whole run takes at most 34 round trips (44 when verifications ran one after another)', async () => {
    const run = await isolationRun();

    expect(run.runs).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(Math.max(...run.rounds.map((sent) => sent.round))).toBeLessThanOrEqual(34);
  });
});
