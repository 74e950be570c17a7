import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { riposte } from './run-cli.js';
import { onDemandPlaybook, teamPlaybook } from '../support/on-demand-playbooks.js';

/*
 * `riposte respond` refused by the library (issue 16, part 3): the same
 * selection as POST /respond, in the pipeline. A refusal is decided before
 * any AWS call: the endpoint below answers nothing, and the ledger holds no run.
 */

const directory = mkdtempSync(join(tmpdir(), 'riposte-cli-respond-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const TEAM_A = '411111111111';
writeFileSync(
  join(directory, 'playbooks.yml'),
  `${teamPlaybook('A', [TEAM_A])}${onDemandPlaybook('org-respond', 'Organisation on-demand response', '{ resource.type: AwsEc2Instance, region: [us-east-1] }')}`,
);

/** `riposte respond` with the test library; nothing listens on port 9, so any AWS call would fail. */
const respond = (account: string, region: string, ...extra: string[]) =>
  riposte([
    'respond',
    '--instance',
    'i-0123456789abcdef0',
    '--account',
    account,
    '--region',
    region,
    '--playbooks',
    join(directory, 'playbooks.yml'),
    '--endpoint',
    'http://127.0.0.1:9',
    '--ledger',
    join(directory, 'ledger'),
    ...extra,
  ]);

describe('riposte respond, refused by the library’s on-demand playbooks', () => {
  it('exits 2 naming the candidates when several take the request and none is the default', async () => {
    const result = await respond(TEAM_A, 'us-east-1');

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `OnDemandAmbiguousError: the request for i-0123456789abcdef0 in account ${TEAM_A}, us-east-1 names no playbook, and 2 take it: org-respond, team-a-respond; none of them is marked the default (triggers.api: { default: true }). Name one with "playbook"\n`,
    );
  });

  it('exits 2 saying what each on-demand playbook requires when none takes the request (the result too with --json)', async () => {
    const result = await respond('422222222222', 'eu-west-1', '--json');

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `OnDemandRefusedError: no playbook's match takes the request for i-0123456789abcdef0 in account 422222222222, eu-west-1; playbooks that take on-demand requests: ` +
        `team-a-respond (account in [${TEAM_A}]); org-respond (resource.type has AwsEc2Instance and region in [us-east-1])\n`,
    );
    const printed = JSON.parse(result.stdout) as { findings: Array<{ runs: unknown[]; error: { code: string; context: { candidates: string[] } } }> };
    expect(printed.findings[0]).toMatchObject({ runs: [], error: { code: 'ON_DEMAND_REFUSED', context: { candidates: ['team-a-respond', 'org-respond'] } } });

    const runs = await riposte(['runs', '--ledger', join(directory, 'ledger'), '--json']);
    expect(runs.status, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual([]);
  });
});
