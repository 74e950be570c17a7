import { describe, expect, it } from 'vitest';

import { accessPathsOf, INDEX_LEVELS, PlaybookIndex, type AccessPath } from '../../src/engine/index.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { compilePlaybooks, type CompiledPlaybook } from '../../src/playbooks/index.js';
import { fixture } from '../support/fixtures.js';

/*
 * Each level of the access path (src/engine/playbook-index.ts), and its
 * "doesn't care" edge, by a case that fails if the level is removed: a
 * level that narrows keeps another team's or region's copy out of the
 * candidates; its "doesn't care" edge keeps an unrestricted playbook in.
 */

const playbook = (id: string, triggers: string, match: string): string => `id: ${id}
title: ${id}
triggers: ${triggers}
match: ${match}
steps:
  - notify: {}
`;

const library = (...documents: ReadonlyArray<readonly [id: string, triggers: string, match: string]>): CompiledPlaybook[] =>
  compilePlaybooks(documents.map(([id, triggers, match]) => ({ path: `${id}.yml`, text: playbook(id, triggers, match) })));

const idsOf = (playbooks: readonly CompiledPlaybook[], positions: readonly number[]): string[] => positions.map((position) => playbooks[position]?.playbook.id as string);
const candidates = (playbooks: readonly CompiledPlaybook[], finding: Finding, index = new PlaybookIndex(playbooks)): string[] => idsOf(playbooks, index.candidates(finding));

/** The Security Hub IAM.15 fixture, in the given account and region, as it arrives or through a custom action. */
const iam15 = (account = '111122223333', region = 'us-east-1', actionId?: string): Finding => {
  const event = fixture<{ 'detail-type': string; account: string; resources: string[]; detail: { findings: Array<Record<string, unknown>> } }>('securityhub-imported-cis-password-policy.json');
  Object.assign(event.detail.findings[0] as object, { AwsAccountId: account, Region: region });
  if (actionId !== undefined) {
    event['detail-type'] = 'Security Hub Findings - Custom Action';
    Object.assign(event.detail, { actionName: actionId, actionDescription: actionId });
    event.resources = [`arn:aws:securityhub:us-east-1:${event.account}:action/custom/${actionId}`];
  }
  return readEvent(event).findings[0] as Finding;
};

describe('PlaybookIndex levels', () => {
  it('reads the fixture as an IAM.15 control finding (the cases below depend on it)', () => {
    const finding = iam15();

    expect([finding.control?.id, finding.account, finding.region, finding.trigger.kind]).toEqual(['IAM.15', '111122223333', 'us-east-1', 'automatic']);
    expect(iam15('111122223333', 'us-east-1', 'CisPasswordPolicy').trigger).toMatchObject({ kind: 'custom-action', actionId: 'CisPasswordPolicy' });
  });

  it('trigger: a custom-action request is not offered the playbooks that run automatically on the same control', () => {
    const playbooks = library(['on-arrival', '{ automatic: true }', '{ control.id: IAM.15 }'], ['on-request', '{ customAction: CisPasswordPolicy }', '{ control.id: IAM.15 }']);

    expect(candidates(playbooks, iam15('111122223333', 'us-east-1', 'CisPasswordPolicy'))).toEqual(['on-request']);
    expect(candidates(playbooks, iam15())).toEqual(['on-arrival']);
    // Without the level, the request is offered both.
    const withoutTrigger = new PlaybookIndex(playbooks, { levels: ['discriminator', 'account', 'region'] });
    expect(candidates(playbooks, iam15('111122223333', 'us-east-1', 'CisPasswordPolicy'), withoutTrigger)).toEqual(['on-arrival', 'on-request']);
  });

  it('trigger: the "doesn\'t care" edge reaches a path that names no trigger', () => {
    const paths: AccessPath[][] = [[[undefined, { field: 'control.id', values: ['IAM.15'], prefix: false }, undefined, undefined]]];

    expect(PlaybookIndex.fromAccessPaths(paths).candidates(iam15('111122223333', 'us-east-1', 'CisPasswordPolicy'))).toEqual([0]);
    expect(PlaybookIndex.fromAccessPaths(paths).candidates(iam15())).toEqual([0]);
  });

  it('discriminator: a control finding is offered the playbooks of its control only; one with no discriminating requirement is offered every finding', () => {
    const playbooks = library(
      ['iam-15', '{ automatic: true }', '{ control.id: IAM.15 }'],
      ['iam-7', '{ automatic: true }', '{ control.id: IAM.7 }'],
      ['any-critical', '{ automatic: true }', '{ severity.label: CRITICAL }'],
    );

    expect(candidates(playbooks, iam15())).toEqual(['iam-15', 'any-critical']);
    expect(candidates(playbooks, iam15(), new PlaybookIndex(playbooks, { levels: ['trigger', 'account', 'region'] }))).toEqual(['iam-15', 'iam-7', 'any-critical']);
  });

  const teams = (): CompiledPlaybook[] =>
    library(
      ['shared', '{ automatic: true }', '{ control.id: IAM.15 }'],
      ['team-a', '{ automatic: true }', '{ control.id: IAM.15, account: ["111122223333", "222233334444"] }'],
      ['team-b', '{ automatic: true }', '{ control.id: IAM.15, account: ["333344445555"] }'],
      ['team-b-not-a', '{ automatic: true }', '{ control.id: IAM.15, account: { not: ["111122223333"] } }'],
      ['eu', '{ automatic: true }', '{ control.id: IAM.15, region: [eu-west-1, eu-central-1] }'],
      ['team-a-eu', '{ automatic: true }', '{ control.id: IAM.15, account: "111122223333", region: eu-west-1 }'],
    );

  it('account: a finding is offered its own team\'s copy, not another team\'s; "doesn\'t care" keeps the shared playbook and a "not" one', () => {
    const playbooks = teams();

    expect(candidates(playbooks, iam15('111122223333'))).toEqual(['shared', 'team-a', 'team-b-not-a']);
    expect(candidates(playbooks, iam15('333344445555'))).toEqual(['shared', 'team-b', 'team-b-not-a']);
    expect(candidates(playbooks, iam15('999999999999'))).toEqual(['shared', 'team-b-not-a']);
    const withoutAccount = new PlaybookIndex(playbooks, { levels: ['trigger', 'discriminator', 'region'] });
    expect(candidates(playbooks, iam15('999999999999'), withoutAccount)).toEqual(['shared', 'team-a', 'team-b', 'team-b-not-a']);
  });

  it('region: a finding is offered the copies for its region only; "doesn\'t care" keeps the others', () => {
    const playbooks = teams();

    expect(candidates(playbooks, iam15('111122223333', 'eu-west-1'))).toEqual(['shared', 'team-a', 'team-b-not-a', 'eu', 'team-a-eu']);
    expect(candidates(playbooks, iam15('111122223333', 'eu-central-1'))).toEqual(['shared', 'team-a', 'team-b-not-a', 'eu']);
    expect(candidates(playbooks, iam15('111122223333', 'us-east-1'))).toEqual(['shared', 'team-a', 'team-b-not-a']);
    const withoutRegion = new PlaybookIndex(playbooks, { levels: ['trigger', 'discriminator', 'account'] });
    expect(candidates(playbooks, iam15('111122223333', 'us-east-1'), withoutRegion)).toEqual(['shared', 'team-a', 'team-b-not-a', 'eu', 'team-a-eu']);
  });

  it('account: requirements a branch holds twice are intersected (a team copy of an account-restricted playbook)', () => {
    const playbooks = library(['copy', '{ automatic: true }', '{ control.id: IAM.15, account: ["111122223333", "333344445555"], all: [{ account: ["333344445555"] }] }']);
    const [paths] = accessPathsOf(playbooks);

    expect(paths?.[0]?.[INDEX_LEVELS.indexOf('account')]?.values).toEqual(['333344445555']);
    expect(candidates(playbooks, iam15('111122223333'))).toEqual([]);
    expect(candidates(playbooks, iam15('333344445555'))).toEqual(['copy']);
  });

  it("files each alternative of a branch under its own key when that is more selective, with the branch's account", () => {
    const playbooks = library(['either', '{ automatic: true }', '{ account: "111122223333", any: [{ control.id: IAM.15 }, { configRule.name: { prefix: securityhub-iam-password-policy- } }] }']);
    const [paths] = accessPathsOf(playbooks);

    expect(paths?.map((path) => path.map((key) => key?.values.join()))).toEqual([
      ['automatic', 'IAM.15', '111122223333', undefined],
      ['automatic', 'securityhub-iam-password-policy-', '111122223333', undefined],
    ]);
    expect(candidates(playbooks, iam15('111122223333'))).toEqual(['either']);
    expect(candidates(playbooks, iam15('333344445555'))).toEqual([]);
  });

  it('offers each playbook once, however many of its paths a finding reaches, in the order given', () => {
    const playbooks = library(
      ['b', '{ automatic: true, customAction: CisPasswordPolicy }', '{ any: [{ control.id: IAM.15 }, { control.cisRules: [1.2.0/1.9, 1.4.0/1.8] }] }'],
      ['a', '{ automatic: true }', '{ control.id: [IAM.15, IAM.7] }'],
    );

    expect(new PlaybookIndex(playbooks).candidates(iam15())).toEqual([0, 1]);
  });
});
