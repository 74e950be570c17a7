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

async function isolationRun(): Promise<Awaited<ReturnType<typeof replayCase>>> {
  const { playbooks } = await loadPlaybooks('playbooks');
  const world = replayWorldSchema.parse(JSON.parse(readFileSync(`${CASE}.aws.json`, 'utf8')));
  const event = eventOfRawFinding(JSON.parse(readFileSync(`${CASE}.event.json`, 'utf8')), 'guardduty-backdoor.event.json');
  return replayCase(event, world, { automatic: 'enforce', excludedAccounts: [] }, playbooks, { latencyMs: 2 });
}

describe('the critical path of the isolation run', () => {
  it('plans every step at once: the first reads of all nine plans go out together, as many at a time as the account allows (10 in flight)', async () => {
    const run = await isolationRun();
    const firstRound = (call: string): number | undefined => run.rounds.find((sent) => sent.call === call)?.round;
    const volumes = firstRound('ec2:DescribeVolumes') as number;

    expect(run.missing).toEqual([]);
    expect(volumes).toBeDefined();
    expect(firstRound('ec2:DescribeInstanceAttribute')).toBe(volumes);
    expect(firstRound('autoscaling:DescribeAutoScalingInstances')).toBe(volumes);
    expect(firstRound('elasticloadbalancing:DescribeTargetGroups')).toBe(volumes);
    // More first reads than the bound of ten calls in flight per account: the rest go in the next round trip, not after the plans before them.
    const memberCallsIn = (round: number) => run.rounds.filter((sent) => sent.round === round && !sent.call.startsWith('s3:')).length;
    expect(memberCallsIn(volumes)).toBe(10);
    expect(firstRound('iam:GetRolePolicy')).toBe(volumes + 1);
    expect(firstRound('ssm:DescribeInstanceInformation')).toBe(volumes + 1);
  });

  it('contains the instance (its last interface moved to the quarantine group) within 30 round trips (38 when plans ran one after another)', async () => {
    const run = await isolationRun();
    const contained = run.rounds.filter((sent) => sent.call === 'ec2:ModifyNetworkInterfaceAttribute').at(-1)?.round;

    expect(run.runs).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(contained).toBeLessThanOrEqual(30);
  });

  it('verifies every step at once: the whole run takes at most 34 round trips (44 when verifications ran one after another)', async () => {
    const run = await isolationRun();

    expect(run.runs).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(Math.max(...run.rounds.map((sent) => sent.round))).toBeLessThanOrEqual(34);
  });
});
