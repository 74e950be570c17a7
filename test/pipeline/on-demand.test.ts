import { describe, expect, it } from 'vitest';

import { NaiveMatcher } from '../../src/engine/index.js';
import { readApiRequest, readEvent, type Finding } from '../../src/intake/index.js';
import { OnDemandAmbiguousError, OnDemandRefusedError } from '../../src/pipeline/errors.js';
import { selectRuns } from '../../src/pipeline/on-demand.js';
import { compilePlaybooks, type CompiledPlaybook } from '../../src/playbooks/index.js';
import { fixture } from '../support/fixtures.js';

const TEAM_A = '111111111111';
const TEAM_B = '222222222222';
const OTHER = '333333333333';

const playbook = (id: string, api: string, match: string): string =>
  `- id: ${id}\n  title: ${id}\n  triggers: { api: ${api} }\n  match: ${match}\n  steps:\n    - ec2.enable-termination-protection: {}\n`;

const library = (...texts: string[]): CompiledPlaybook[] => compilePlaybooks([{ path: 'teams.yml', text: texts.join('') }]);

const TEAMS = [
  playbook('team-a-respond', 'true', `{ account: ["${TEAM_A}"] }`),
  playbook('team-b-respond', 'true', `{ account: ["${TEAM_B}"], region: us-east-1 }`),
  playbook('org-respond', 'true', '{ product.id: guardduty, resource.type: AwsEc2Instance }'),
];

const request = (account: string, playbookId?: string): Finding =>
  readApiRequest(
    { instanceId: 'i-0123456789abcdef0', account, region: 'us-east-1', ...(playbookId === undefined ? {} : { playbook: playbookId }) },
    { principal: 'arn:aws:iam::999988887777:user/analyst' },
  ).findings[0] as Finding;

/** What the pipeline's selection makes of a request against `playbooks`: the ids that run, or the refusal. */
async function select(playbooks: readonly CompiledPlaybook[], finding: Finding): Promise<string[] | OnDemandAmbiguousError | OnDemandRefusedError> {
  const selection = selectRuns(finding, await new NaiveMatcher(playbooks).match(finding), playbooks);
  return 'refused' in selection ? selection.refused : selection.runs.map((match) => match.playbook.playbook.id);
}

describe('selectRuns (which playbooks an on-demand request runs)', () => {
  it('runs the one playbook whose match takes the request', async () => {
    expect(await select(library(TEAMS[0] as string, TEAMS[1] as string), request(TEAM_A))).toEqual(['team-a-respond']);
    expect(await select(library(TEAMS[0] as string, TEAMS[1] as string), request(TEAM_B))).toEqual(['team-b-respond']);
  });

  it('refuses a request several playbooks take when none is the default, naming them (and not the one that refuses it)', async () => {
    const refused = await select(library(...TEAMS), request(TEAM_A));

    expect(refused).toBeInstanceOf(OnDemandAmbiguousError);
    const error = refused as OnDemandAmbiguousError;
    expect(error.candidates).toEqual(['org-respond', 'team-a-respond']);
    expect(error.context).toMatchObject({ account: TEAM_A, region: 'us-east-1', instanceId: 'i-0123456789abcdef0', candidates: ['org-respond', 'team-a-respond'] });
    expect(error.message).toContain('names no playbook, and 2 take it: org-respond, team-a-respond; none of them is marked the default');
    expect(error.retryable).toBe(false);
  });

  it('runs the default among several that take the request', async () => {
    const marked = library(TEAMS[0] as string, TEAMS[1] as string, playbook('org-respond', '{ default: true }', '{ resource.type: AwsEc2Instance }'));

    expect(await select(marked, request(TEAM_A))).toEqual(['org-respond']);
    // Where only one takes it, that one runs, default or not.
    expect(await select(library(playbook('team-a-respond', '{ default: true }', `{ account: ["${TEAM_A}"] }`), TEAMS[1] as string), request(TEAM_B))).toEqual(['team-b-respond']);
  });

  it('refuses when several defaults take the request, naming them', async () => {
    const twoDefaults = library(playbook('team-a-respond', '{ default: true }', `{ account: ["${TEAM_A}"] }`), playbook('org-respond', '{ default: true }', '{ resource.type: AwsEc2Instance }'));

    const refused = (await select(twoDefaults, request(TEAM_A))) as OnDemandAmbiguousError;

    expect(refused).toBeInstanceOf(OnDemandAmbiguousError);
    expect(refused.message).toContain('2 of them are marked the default (org-respond, team-a-respond), and only one may be');
  });

  it('refuses a request no playbook takes, saying what each on-demand playbook requires', async () => {
    const refused = (await select(library(TEAMS[0] as string, TEAMS[1] as string), request(OTHER))) as OnDemandRefusedError;

    expect(refused).toBeInstanceOf(OnDemandRefusedError);
    expect(refused.code).toBe('ON_DEMAND_REFUSED');
    expect(refused.candidates).toEqual(['team-a-respond', 'team-b-respond']);
    expect(refused.message).toBe(
      `no playbook's match takes the request for i-0123456789abcdef0 in account ${OTHER}, us-east-1; playbooks that take on-demand requests: ` +
        `team-a-respond (account in [${TEAM_A}]); team-b-respond (account in [${TEAM_B}] and region = us-east-1)`,
    );
  });

  it('refuses a named playbook whose match refuses the request, saying what it requires', async () => {
    const refused = (await select(library(...TEAMS), request(TEAM_A, 'team-b-respond'))) as OnDemandRefusedError;

    expect(refused).toBeInstanceOf(OnDemandRefusedError);
    expect(refused.context.playbook).toBe('team-b-respond');
    expect(refused.message).toMatch(
      new RegExp(
        `^playbook team-b-respond does not take the request for i-0123456789abcdef0 in account ${TEAM_A}, us-east-1: its match requires account in \\[${TEAM_B}\\] and region = us-east-1; playbooks that take on-demand requests: team-a-respond`,
      ),
    );
    // Named, and taken: that one only, whoever else would take it.
    expect(await select(library(...TEAMS), request(TEAM_A, 'team-a-respond'))).toEqual(['team-a-respond']);
  });

  it('refuses a named playbook that takes no on-demand requests, and any request to a library without one', async () => {
    const automatic = compilePlaybooks([{ path: 'auto.yml', text: 'id: auto\ntitle: auto\ntriggers: { automatic: true }\nmatch: { product.id: guardduty }\nsteps:\n  - notify: {}\n' }]);

    expect(((await select([...library(TEAMS[0] as string), ...automatic], request(TEAM_A, 'auto'))) as Error).message).toMatch(/^playbook auto does not take on-demand requests \(triggers.api\)/);
    expect(((await select(automatic, request(TEAM_A))) as Error).message).toMatch(/^no playbook of this library takes on-demand requests/);
  });

  it('passes a finding that is not an on-demand request through: every match runs', async () => {
    const playbooks = compilePlaybooks([
      { path: 'a.yml', text: 'id: one\ntitle: one\ntriggers: { automatic: true }\nmatch: { product.id: guardduty }\nsteps:\n  - notify: {}\n' },
      { path: 'b.yml', text: 'id: two\ntitle: two\ntriggers: { automatic: true }\nmatch: { resource.type: AwsEc2Instance }\nsteps:\n  - notify: {}\n' },
    ]);
    const finding = readEvent(fixture('guardduty-ec2-backdoor.json')).findings[0] as Finding;

    expect(await select(playbooks, finding)).toEqual(['one', 'two']);
  });
});
