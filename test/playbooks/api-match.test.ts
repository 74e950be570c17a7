import { describe, expect, it } from 'vitest';

import { NaiveMatcher } from '../../src/engine/index.js';
import { readApiRequest } from '../../src/intake/index.js';
import { apiMatchOf, compilePlaybookFiles, describeApiMatch, formatProblem, loadPlaybooks, type CompiledPlaybook, type Condition } from '../../src/playbooks/index.js';

const leaf = (fact: string, operator: string, value: unknown): Condition => ({ fact, operator, value });
const ACCOUNT_A = leaf('account', 'in', ['111111111111']);
const REGION = leaf('region', 'equal', 'eu-west-1');
const INSTANCE = leaf('resource.type', 'contains', 'AwsEc2Instance');
const PRODUCT = leaf('product.id', 'equal', 'guardduty');
const SEVERITY = leaf('severity.label', 'in', ['HIGH', 'CRITICAL']);

/** One playbook compiled from YAML, failing the test on any problem. */
function compileOne(text: string): CompiledPlaybook {
  const { playbooks, problems } = compilePlaybookFiles([{ path: 'test.yml', text }]);
  expect(problems.map(formatProblem)).toEqual([]);
  return playbooks[0] as CompiledPlaybook;
}

const apiPlaybook = (id: string, body: string, api = 'true'): string => `id: ${id}\ntitle: ${id}\ntriggers: { api: ${api} }\n${body}\nsteps:\n  - ec2.enable-termination-protection: {}\n`;

const request = (account: string, region = 'us-east-1', playbook?: string) =>
  readApiRequest({ instanceId: 'i-0123456789abcdef0', account, region, ...(playbook === undefined ? {} : { playbook }) }, { principal: 'arn:aws:iam::999988887777:user/analyst' })
    .findings[0] as NonNullable<ReturnType<typeof readApiRequest>['findings'][0]>;

describe('apiMatchOf', () => {
  it('keeps a condition on a field an on-demand request carries (account, region, partition, resource.type, resource.id)', () => {
    for (const fact of ['account', 'region', 'partition', 'resource.type', 'resource.id']) {
      const condition = leaf(fact, 'equal', 'x');
      expect(apiMatchOf(condition)).toEqual(condition);
    }
  });

  it('treats a condition on any other field as not asked: it drops out', () => {
    expect(apiMatchOf(PRODUCT)).toBeUndefined();
    expect(apiMatchOf(leaf('types', 'prefix', ['Backdoor:EC2/']))).toBeUndefined();
    expect(apiMatchOf(undefined)).toBeUndefined();
  });

  it('keeps the children of an all that ask something, and nothing when none does', () => {
    expect(apiMatchOf({ all: [PRODUCT, ACCOUNT_A, SEVERITY, REGION] })).toEqual({ all: [ACCOUNT_A, REGION] });
    expect(apiMatchOf({ all: [PRODUCT, ACCOUNT_A] })).toEqual(ACCOUNT_A);
    expect(apiMatchOf({ all: [PRODUCT, SEVERITY] })).toBeUndefined();
  });

  it('drops an any with a child that asks nothing (that alternative always holds), and keeps one whose children all ask', () => {
    expect(apiMatchOf({ all: [INSTANCE, { any: [ACCOUNT_A, PRODUCT] }] })).toEqual(INSTANCE);
    expect(apiMatchOf({ any: [ACCOUNT_A, { all: [PRODUCT, SEVERITY] }] })).toBeUndefined();
    expect(apiMatchOf({ any: [ACCOUNT_A, REGION] })).toEqual({ any: [ACCOUNT_A, REGION] });
    expect(apiMatchOf({ any: [ACCOUNT_A, { all: [PRODUCT, REGION] }] })).toEqual({ any: [ACCOUNT_A, REGION] });
  });

  it('keeps a not whose whole tree reads request fields, and drops a not mixing them with others (undecidable on a request)', () => {
    const notAccounts: Condition = { not: { any: [ACCOUNT_A, REGION] } };
    expect(apiMatchOf({ all: [PRODUCT, notAccounts] })).toEqual(notAccounts);
    expect(apiMatchOf({ all: [INSTANCE, { not: { all: [ACCOUNT_A, PRODUCT] } }] })).toEqual(INSTANCE);
    expect(apiMatchOf({ not: PRODUCT })).toBeUndefined();
  });

  it('projects raw conditions the same way as a match block', () => {
    const compiled = compileOne(
      apiPlaybook(
        'raw',
        [
          'conditions:',
          '  all:',
          '    - { fact: product.id, operator: equal, value: guardduty }',
          '    - { fact: account, operator: in, value: ["111111111111"] }',
          '    - any:',
          '        - { fact: region, operator: equal, value: eu-west-1 }',
          '        - { fact: severity.label, operator: equal, value: HIGH }',
          '    - not: { fact: region, operator: equal, value: us-east-2 }',
        ].join('\n'),
      ),
    );
    expect(compiled.apiMatch).toEqual({ all: [ACCOUNT_A, { not: leaf('region', 'equal', 'us-east-2') }] });
  });
});

describe('the compiled rule of an API playbook', () => {
  it('requires the projection of its match on the API branch', () => {
    const compiled = compileOne(apiPlaybook('team-a', 'match:\n  product.id: guardduty\n  account: ["111111111111"]\n  resource.type: AwsEc2Instance'));

    expect(compiled.rule.conditions).toEqual({
      all: [leaf('trigger.kind', 'equal', 'api'), { any: [leaf('trigger.playbook', 'exists', false), leaf('trigger.playbook', 'equal', 'team-a')] }, { all: [ACCOUNT_A, INSTANCE] }],
    });
    expect(compiled.facts).toContain('account');
  });

  it('adds nothing when the match asks nothing of a request', () => {
    const compiled = compileOne(apiPlaybook('anywhere', 'match:\n  product.id: guardduty'));

    expect(compiled.apiMatch).toBeUndefined();
    expect(compiled.rule.conditions).toEqual({
      all: [leaf('trigger.kind', 'equal', 'api'), { any: [leaf('trigger.playbook', 'exists', false), leaf('trigger.playbook', 'equal', 'anywhere')] }],
    });
  });

  it('restricts a team playbook to its accounts: it matches a request for them, not for another account', async () => {
    const matcher = new NaiveMatcher([compileOne(apiPlaybook('team-a', 'match:\n  account: ["111111111111"]\n  region: { not: [eu-west-1] }'))]);

    expect((await matcher.match(request('111111111111'))).map((match) => match.playbook.playbook.id)).toEqual(['team-a']);
    expect(await matcher.match(request('222222222222'))).toEqual([]);
    expect(await matcher.match(request('111111111111', 'eu-west-1'))).toEqual([]);
    expect(await matcher.match(request('222222222222', 'us-east-1', 'team-a'))).toEqual([]);
  });

  it('keeps the default library: ec2-compromise-isolate (GuardDuty types, resource.type AwsEc2Instance) takes every request for an instance', async () => {
    const { playbooks, problems } = await loadPlaybooks('playbooks');
    expect(problems).toEqual([]);
    const isolate = playbooks.find((compiled) => compiled.playbook.id === 'ec2-compromise-isolate') as CompiledPlaybook;
    expect(isolate.apiMatch).toEqual(INSTANCE);
    const matcher = new NaiveMatcher(playbooks);

    for (const [account, region] of [
      ['111122223333', 'us-east-1'],
      ['444455556666', 'eu-west-1'],
      ['777788889999', 'us-gov-west-1'],
    ] as const) {
      expect((await matcher.match(request(account, region))).map((match) => match.playbook.playbook.id)).toEqual(['ec2-compromise-isolate']);
    }
  });
});

describe('triggers.api: { default: true }', () => {
  it('marks the playbook the default for on-demand requests; api: true does not', () => {
    expect(compileOne(apiPlaybook('marked', 'match: { account: ["111111111111"] }', '{ default: true }')).playbook.triggers).toMatchObject({ api: true, apiDefault: true });
    expect(compileOne(apiPlaybook('plain', 'match: { account: ["111111111111"] }')).playbook.triggers).toMatchObject({ api: true, apiDefault: false });
    expect(compileOne(apiPlaybook('mapping', 'match: { account: ["111111111111"] }', '{ default: false }')).playbook.triggers).toMatchObject({ api: true, apiDefault: false });
  });

  it('refuses a misspelt key, suggesting default', () => {
    const { problems } = compilePlaybookFiles([{ path: 'test.yml', text: apiPlaybook('typo', 'match: { account: ["111111111111"] }', '{ defualt: true }') }]);

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'triggers.api.defualt', suggestion: 'default' });
  });
});

describe('describeApiMatch', () => {
  it('says what a request must carry, readably', () => {
    expect(describeApiMatch({ all: [ACCOUNT_A, INSTANCE, { not: { any: [REGION, leaf('region', 'prefix', ['ap-', 'me-'])] } }] })).toBe(
      'account in [111111111111] and resource.type has AwsEc2Instance and not (region = eu-west-1 or region starts with one of [ap-, me-])',
    );
    expect(describeApiMatch({ any: [ACCOUNT_A, { all: [REGION, leaf('partition', 'equal', 'aws')] }] })).toBe('account in [111111111111] or (region = eu-west-1 and partition = aws)');
    expect(describeApiMatch(undefined)).toBe('any instance');
  });
});
