import { afterEach, describe, expect, it } from 'vitest';

import type { ApiErrorBody, ApiGatewayProxyResult } from '../../src/lambda/index.js';
import { onDemandPlaybook, teamPlaybook } from '../support/on-demand-playbooks.js';
import { playbooksFromYaml } from '../support/pipeline-lab.js';
import { lambdaContext, lambdaLab, proxyEvent, type LambdaLab } from './lambda-lab.js';

/*
 * POST /respond when the library's matches decide which playbook an
 * on-demand request runs (issue 16, part 3): the pipeline's refusals as
 * HTTP answers, each naming the candidate playbooks. Nothing is recorded.
 */

const TEAM_A = '311111111111';
const TEAM_B = '322222222222';
const OTHER = '333333333333';
const INSTANCE = 'i-0123456789abcdef0';

const LIBRARY = [
  teamPlaybook('A', [TEAM_A]),
  teamPlaybook('B', [TEAM_B]),
  onDemandPlaybook('org-respond', 'Organisation on-demand response', '{ resource.type: AwsEc2Instance, region: [us-east-1] }'),
].join('');

let lab: LambdaLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function post(body: Record<string, unknown>): Promise<{ response: ApiGatewayProxyResult; error: ApiErrorBody['error'] }> {
  const response = await (lab as LambdaLab).api(proxyEvent({ method: 'POST', path: '/respond', body: JSON.stringify(body) }), lambdaContext(30_000, 'riposte-test-api'));
  return { response, error: (JSON.parse(response.body) as ApiErrorBody).error };
}

describe('POST /respond, refused by the library’s on-demand playbooks', () => {
  it('answers 409 PLAYBOOK_AMBIGUOUS naming the candidates when several take the request and none is the default; 400 NOT_MATCHED when none takes it or the named one refuses it; records no run', async () => {
    lab = await lambdaLab({ playbooks: playbooksFromYaml(LIBRARY) });

    const ambiguous = await post({ instanceId: INSTANCE, account: TEAM_A, region: 'us-east-1' });
    expect(ambiguous.response.statusCode).toBe(409);
    expect(ambiguous.error).toEqual({
      code: 'PLAYBOOK_AMBIGUOUS',
      field: 'playbook',
      candidates: ['org-respond', 'team-a-respond'],
      message: `the request for ${INSTANCE} in account ${TEAM_A}, us-east-1 names no playbook, and 2 take it: org-respond, team-a-respond; none of them is marked the default (triggers.api: { default: true }). Name one with "playbook"`,
    });

    const unmatched = await post({ instanceId: INSTANCE, account: OTHER, region: 'eu-west-1' });
    expect(unmatched.response.statusCode).toBe(400);
    expect(unmatched.error).toMatchObject({ code: 'NOT_MATCHED', candidates: ['team-a-respond', 'team-b-respond', 'org-respond'] });
    expect(unmatched.error).not.toHaveProperty('field');
    expect(unmatched.error.message).toContain(`org-respond (resource.type has AwsEc2Instance and region in [us-east-1])`);

    const named = await post({ instanceId: INSTANCE, account: TEAM_A, region: 'us-east-1', playbook: 'team-b-respond' });
    expect(named.response.statusCode).toBe(400);
    expect(named.error).toMatchObject({ code: 'NOT_MATCHED', field: 'playbook', candidates: ['team-a-respond', 'team-b-respond', 'org-respond'] });
    expect(named.error.message).toMatch(
      /^playbook team-b-respond does not take the request for i-0123456789abcdef0 in account 311111111111, us-east-1: its match requires account in \[322222222222\]/,
    );

    expect(await lab.runtime.ledger.listRuns()).toEqual([]);
  });
});
