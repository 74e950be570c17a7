import { describe, expect, it } from 'vitest';

import { IndexedMatcher, NaiveMatcher, PlaybookIndex } from '../../src/engine/index.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { compilePlaybookFiles, factsOf } from '../../src/playbooks/index.js';
import { fixture } from '../support/fixtures.js';

/*
 * Issue 11: `toString`, `__proto__`, `hasOwnProperty` and `constructor` as
 * match keys or facts passed validation and then broke matching for every
 * playbook indexed with them. As keys they are now refused
 * (test/playbooks/hostile-input.test.ts); as values they are legal — a
 * Config rule, a finding title, a custom action or a playbook may be called
 * `constructor` — and must be values like any other: here a library full of
 * them shares index keys with ordinary playbooks, and both matchers agree.
 */

const playbook = (id: string, body: string): string => `id: ${id}\ntitle: ${id}\ntriggers: { automatic: true }\n${body}\nsteps:\n  - notify: {}\n`;

const FILES = [
  { path: 'normal-backdoor.yml', text: playbook('normal-backdoor', 'match: { product.id: guardduty, types: { prefix: "Backdoor:EC2/" } }\nexempt: { tags: { "__proto__": "true" } }') },
  { path: 'normal-cis.yml', text: playbook('normal-cis', 'match: { control.id: [IAM.15, IAM.7], compliance.status: FAILED }') },
  { path: 'normal-config.yml', text: playbook('normal-config', 'match: { configRule.name: iam-password-policy }') },
  {
    path: 'hostile-types.yml',
    text: playbook('hostile-types', 'match:\n  product.id: guardduty\n  types: { prefix: ["Backdoor:EC2/", "__proto__", constructor] }\n  title: { not: toString }'),
  },
  { path: 'hostile-config.yml', text: playbook('hostile-config', 'match: { configRule.name: [__proto__, constructor, toString, iam-password-policy] }') },
  { path: 'hostile-title.yml', text: playbook('hostile-title', 'match: { title: [toString, hasOwnProperty], product.owner: [aws, third-party] }') },
  { path: 'hostile-product.yml', text: playbook('hostile-product', 'match: { product.id: [constructor/tostring, guardduty], resource.type: AwsEc2Instance }') },
  {
    path: 'constructor.yml',
    text: 'id: constructor\ntitle: constructor\ntriggers: { automatic: true, customAction: constructor }\nmatch: { resource.type: AwsEc2Instance }\nsteps:\n  - notify: {}\n',
  },
  {
    path: 'hostile-raw.yml',
    text: playbook(
      'hostile-raw',
      'conditions:\n  any:\n    - { fact: source, operator: equal, value: constructor }\n    - { fact: types, operator: contains, value: hasOwnProperty }\n    - { fact: compliance.status, operator: in, value: [__proto__, FAILED] }',
    ),
  },
];

const first = (name: string): Finding => readEvent(fixture(name)).findings[0] as Finding;
const GUARDDUTY = first('guardduty-ec2-backdoor.json');
const CIS = first('securityhub-imported-cis-password-policy.json');
const CONFIG = first('config-compliance-password-policy.json');

/** Real findings, and copies whose fields hold Object.prototype's names (all values intake can produce). */
const FINDINGS: ReadonlyArray<readonly [string, Finding]> = [
  ['guardduty', GUARDDUTY],
  ['cis', CIS],
  ['config', CONFIG],
  ['guardduty titled toString', { ...GUARDDUTY, title: 'toString' }],
  ['guardduty typed __proto__ and hasOwnProperty', { ...GUARDDUTY, types: ['__proto__', 'hasOwnProperty', 'constructor'] }],
  ['config rule named constructor', { ...CONFIG, configRule: { name: 'constructor' } }],
  ['config rule named __proto__', { ...CONFIG, configRule: { name: '__proto__' } }],
  ['a partner product constructor/tostring', { ...GUARDDUTY, product: { id: 'constructor/tostring', owner: 'third-party', name: 'toString' } }],
  [
    'custom action constructor',
    { ...GUARDDUTY, trigger: { kind: 'custom-action', actionId: 'constructor', actionName: 'constructor', actionArn: 'arn:aws:securityhub:us-east-1:111122223333:action/custom/constructor' } },
  ],
];

const ids = async (matcher: NaiveMatcher | IndexedMatcher, finding: Finding): Promise<string[]> => (await matcher.match(finding)).map((match) => match.playbook.playbook.id);

describe('playbooks and findings whose values are Object.prototype names', () => {
  const { playbooks, problems } = compilePlaybookFiles(FILES);

  it('compile, keeping a `__proto__` tag as an exemption', () => {
    expect(problems).toEqual([]);
    expect(playbooks).toHaveLength(FILES.length);
    expect(Object.entries(playbooks[0]?.playbook.exempt.tags ?? {})).toEqual([['__proto__', 'true']]);
  });

  it.each(FINDINGS)('%s: the indexed matcher answers what the naive one does', async (_, finding) => {
    expect(await ids(new IndexedMatcher(playbooks), finding)).toEqual(await ids(new NaiveMatcher(playbooks), finding));
  });

  it('still match what they should, and the ordinary playbooks sharing their index keys still match', async () => {
    const matcher = new IndexedMatcher(playbooks);
    const matched = Object.fromEntries(await Promise.all(FINDINGS.map(async ([name, finding]) => [name, (await ids(matcher, finding)).sort()] as const)));

    expect(matched).toEqual({
      guardduty: ['constructor', 'hostile-product', 'hostile-types', 'normal-backdoor'],
      cis: ['hostile-raw', 'normal-cis'],
      config: ['hostile-config', 'hostile-raw', 'normal-config'],
      'guardduty titled toString': ['constructor', 'hostile-product', 'hostile-title', 'normal-backdoor'],
      'guardduty typed __proto__ and hasOwnProperty': ['constructor', 'hostile-product', 'hostile-raw', 'hostile-types'],
      'config rule named constructor': ['hostile-config', 'hostile-raw'],
      'config rule named __proto__': ['hostile-config', 'hostile-raw'],
      // A partner's product drives only the playbook that names it.
      'a partner product constructor/tostring': ['hostile-product'],
      'custom action constructor': ['constructor'],
    });
  });

  it('the custom action `constructor` reaches the playbook bound to it, through the index', async () => {
    const [, finding] = FINDINGS.find(([name]) => name === 'custom action constructor') as readonly [string, Finding];
    const customAction = compilePlaybookFiles([
      ...FILES,
      { path: 'ca.yml', text: 'id: ca\ntitle: ca\ntriggers: { customAction: constructor }\nmatch: { resource.type: AwsEc2Instance }\nsteps:\n  - notify: {}\n' },
    ]).playbooks;

    expect(await ids(new IndexedMatcher(customAction), finding)).toEqual(['ca', 'constructor']);
    expect(new PlaybookIndex(customAction).candidates(finding).length).toBeLessThan(customAction.length);
  });

  it('facts are a null-prototype record: no fact answers from Object.prototype', () => {
    const facts = factsOf(GUARDDUTY);

    expect(Object.getPrototypeOf(facts)).toBeNull();
    expect(facts.constructor).toBeUndefined();
    expect(factsOf(GUARDDUTY, ['toString', '__proto__', 'source'])).toEqual(Object.assign(Object.create(null) as object, { source: 'guardduty' }));
  });
});
