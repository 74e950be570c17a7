import { describe, expect, it } from 'vitest';

import { IndexedMatcher, NaiveMatcher } from '../../src/engine/index.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { compilePlaybooks, formatBinding, loadPlaybooks, type CompiledPlaybook } from '../../src/playbooks/index.js';
import { matchesAnyEventPattern } from '../support/event-pattern-matcher.js';
import { fixture } from '../support/fixtures.js';

/*
 * Issue 11, case 5 and "Trusted product identity": a playbook that matches on
 * controls is bound to Security Hub's own product unless it names another;
 * a playbook that names no product acts only on findings of AWS services and
 * Riposte. The compiler adds both as conditions (matcher and patterns follow
 * them) and lists them, with reasons, for `riposte validate --verbose`.
 */

type Json = Record<string, unknown>;
/** The first ASFF finding of a Security Hub event. */
const asffFinding = (event: Json): Json => ((event.detail as Json).findings as Json[])[0] as Json;

const { playbooks: LIBRARY, problems } = await loadPlaybooks('playbooks');
const byId = (id: string): CompiledPlaybook => LIBRARY.find((compiled) => compiled.playbook.id === id) as CompiledPlaybook;

const DEFAULT_PRODUCT = 'arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default';
const PARTNER_PRODUCT = 'arn:aws:securityhub:us-east-1::product/crowdstrike/crowdstrike-falcon';

/** The open-SSH control finding (Security Hub EC2.13), sent from another product, claiming the same control in ProductFields too. */
function openSshFrom(productArn: string): Json {
  const event = fixture<Json>('securityhub-imported-open-ssh.json');
  const finding = asffFinding(event);
  finding.ProductArn = productArn;
  finding.ProductName = 'Default';
  finding.CompanyName = 'Personal';
  finding.ProductFields = { ...(finding.ProductFields as Json), ControlId: 'EC2.13', 'aws/securityhub/ProductName': 'Security Hub' };
  return event;
}

const findingOf = (event: unknown): Finding => readEvent(event).findings[0] as Finding;
const matchedIds = async (playbooks: readonly CompiledPlaybook[], finding: Finding): Promise<string[]> =>
  (await new IndexedMatcher(playbooks).match(finding)).map((match) => match.playbook.playbook.id);

function compileOne(match: string, extra = ''): CompiledPlaybook {
  const [compiled] = compilePlaybooks([{ path: 'p.yml', text: `id: p\ntitle: t\ntriggers: { automatic: true }\nmatch:\n${match}\n${extra}steps:\n  - notify: {}\n` }]);
  return compiled as CompiledPlaybook;
}

describe('control playbooks are bound to Security Hub’s product', () => {
  it('the default library still compiles', () => {
    expect(problems).toEqual([]);
  });

  it('an account’s default product claiming EC2.13 (ProductFields.ControlId and Compliance) does not drive revoke-unrestricted-admin-ingress, nor is it delivered', async () => {
    const event = openSshFrom(DEFAULT_PRODUCT);
    const playbook = byId('revoke-unrestricted-admin-ingress');

    expect(findingOf(event).product).toMatchObject({ owner: 'third-party' });
    expect(await matchedIds(LIBRARY, findingOf(event))).toEqual([]);
    expect(matchesAnyEventPattern(playbook.eventPatterns, event)).toBe(false);
  });

  it('a partner product claiming EC2.13 does not drive it either', async () => {
    const event = openSshFrom(PARTNER_PRODUCT);

    expect(await matchedIds(LIBRARY, findingOf(event))).toEqual([]);
    expect(matchesAnyEventPattern(byId('revoke-unrestricted-admin-ingress').eventPatterns, event)).toBe(false);
  });

  it('(control) Security Hub’s own EC2.13 finding still drives it and is delivered', async () => {
    const event = fixture<Json>('securityhub-imported-open-ssh.json');

    expect(await matchedIds(LIBRARY, findingOf(event))).toEqual(['revoke-unrestricted-admin-ingress']);
    expect(matchesAnyEventPattern(byId('revoke-unrestricted-admin-ingress').eventPatterns, event)).toBe(true);
  });

  it('the ASFF patterns of the control playbooks name Security Hub’s product ARN', () => {
    for (const id of ['cis-password-policy', 'empty-default-security-group', 'revoke-unrestricted-admin-ingress']) {
      const asff = byId(id).eventPatterns.find((pattern) => JSON.stringify(pattern['detail-type']) === '["Security Hub Findings - Imported"]');
      expect(JSON.stringify(asff), id).toContain('"ProductArn":[{"suffix":"::product/aws/securityhub"}]');
    }
  });

  it('the binding is listed with its reason, for validate --verbose', () => {
    expect(byId('revoke-unrestricted-admin-ingress').bindings).toEqual([
      expect.objectContaining({ condition: { fact: 'product.id', operator: 'equal', value: 'securityhub' }, guards: ['control.cisRules', 'control.id'], partial: false }),
      expect.objectContaining({ condition: { fact: 'product.owner', operator: 'in', value: ['aws', 'riposte'] }, guards: ['match'], partial: true }),
    ]);
    expect(formatBinding(byId('revoke-unrestricted-admin-ingress').bindings[0] as never)).toMatch(
      /^product\.id = securityhub, added to control\.cisRules, control\.id: control ids are taken from Security Hub’s own findings only/,
    );
    // GuardDuty isolation names its product: nothing is added.
    expect(byId('ec2-compromise-isolate').bindings).toEqual([]);
  });

  it('a playbook naming product.id next to the control takes that product’s controls, and is not bound', async () => {
    const compiled = compileOne('  product.id: 111122223333/default\n  control.id: EC2.13');

    expect(compiled.bindings).toEqual([]);
    expect(await matchedIds([compiled], findingOf(openSshFrom(DEFAULT_PRODUCT)))).toEqual(['p']);
    expect(await matchedIds([compiled], findingOf(fixture('securityhub-imported-open-ssh.json')))).toEqual([]);
    expect(matchesAnyEventPattern(compiled.eventPatterns, openSshFrom(DEFAULT_PRODUCT))).toBe(true);
  });

  it('a control inside `not` is not bound: a claimed control can only keep a finding out', () => {
    const compiled = compileOne('  compliance.status: FAILED\n  not: { control.id: EC2.13 }');

    expect(compiled.bindings.map((binding) => binding.condition.fact)).toEqual(['product.owner']);
  });
});

describe('a custom or third-party product drives only playbooks that name it', () => {
  const partnerInstanceFinding = (): Finding => {
    const event = fixture<Json>('securityhub-imported-guardduty-ec2.json');
    asffFinding(event).ProductArn = PARTNER_PRODUCT;
    return findingOf(event);
  };

  it('a playbook naming no product does not match a partner’s finding; naming it, or its owner, does', async () => {
    const unnamed = compileOne('  resource.type: AwsEc2Instance');
    const named = compileOne('  resource.type: AwsEc2Instance\n  product.id: crowdstrike/crowdstrike-falcon');
    const owner = compileOne('  resource.type: AwsEc2Instance\n  product.owner: third-party');
    const finding = partnerInstanceFinding();

    expect(finding.product).toMatchObject({ id: 'crowdstrike/crowdstrike-falcon', owner: 'third-party' });
    expect(await matchedIds([unnamed], finding)).toEqual([]);
    expect(await matchedIds([named], finding)).toEqual(['p']);
    expect(await matchedIds([owner], finding)).toEqual(['p']);
    expect(unnamed.bindings).toEqual([expect.objectContaining({ condition: { fact: 'product.owner', operator: 'in', value: ['aws', 'riposte'] }, guards: ['match'], partial: false })]);
    expect(named.bindings).toEqual([]);
    expect(owner.bindings).toEqual([]);
  });

  it('(control) the same playbook naming no product matches GuardDuty’s own finding', async () => {
    const unnamed = compileOne('  resource.type: AwsEc2Instance');

    expect(await matchedIds([unnamed], findingOf(fixture('securityhub-imported-guardduty-ec2.json')))).toEqual(['p']);
  });

  it('naming the partner in one alternative leaves the other alternatives bound', async () => {
    const compiled = compileOne('  any:\n    - { product.id: crowdstrike/crowdstrike-falcon, severity.label: CRITICAL }\n    - { resource.type: AwsEc2Instance }');
    const finding = partnerInstanceFinding();

    // HIGH: only the second alternative could match, and it names no product.
    expect(finding.severity.label).toBe('HIGH');
    expect(await matchedIds([compiled], finding)).toEqual([]);
    expect(await matchedIds([compiled], findingOf(fixture('securityhub-imported-guardduty-ec2.json')))).toEqual(['p']);
    expect(compiled.bindings).toEqual([expect.objectContaining({ guards: ['match'], partial: true })]);
  });

  it('the indexed and naive matchers agree on the bound library for every fixture, third-party copies included', async () => {
    const library = [
      ...LIBRARY,
      compileOne('  resource.type: AwsEc2Instance'),
      ...compilePlaybooks([{ path: 'q.yml', text: 'id: q\ntitle: t\ntriggers: { automatic: true }\nmatch:\n  product.id: 111122223333/default\n  control.id: EC2.13\nsteps:\n  - notify: {}\n' }]),
    ];
    const events = [openSshFrom(DEFAULT_PRODUCT), openSshFrom(PARTNER_PRODUCT), fixture('securityhub-imported-open-ssh.json'), fixture('securityhub-imported-guardduty-ec2.json')];
    for (const event of events) {
      const finding = findingOf(event);
      const naive = (await new NaiveMatcher(library).match(finding)).map((match) => match.playbook.playbook.id);
      expect(await matchedIds(library, finding)).toEqual(naive);
    }
  });
});
