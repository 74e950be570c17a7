import { beforeAll, describe, expect, it } from 'vitest';

import { IndexedMatcher } from '../../src/engine/index.js';
import { readApiRequest, readEvent, type Finding } from '../../src/intake/index.js';
import { loadPlaybooks, type CompiledPlaybook } from '../../src/playbooks/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';

type Json = Record<string, any>;

let library: readonly CompiledPlaybook[];
let matcher: IndexedMatcher;

beforeAll(async () => {
  const { playbooks, problems } = await loadPlaybooks('playbooks');
  expect(problems).toEqual([]);
  library = playbooks;
  matcher = new IndexedMatcher(playbooks);
});

const findingOf = (event: unknown): Finding => {
  const { findings } = readEvent(event);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
};
const matches = async (event: unknown): Promise<string[]> => (await matcher.match(findingOf(event))).map((match) => match.playbook.playbook.id);

/** A fixture changed by `change`, for the "does not match" cases. */
const variant = (name: string, change: (event: Json) => void): Json => {
  const event = fixture<Json>(name);
  change(event);
  return event;
};

describe('default playbook library', () => {
  it('holds the four playbooks, each exempting riposte:exempt=true resources', () => {
    expect(library.map((compiled) => compiled.playbook.id).sort()).toEqual(['cis-password-policy', 'ec2-compromise-isolate', 'empty-default-security-group', 'revoke-unrestricted-admin-ingress']);
    for (const compiled of library) expect(compiled.playbook.exempt.tags).toEqual({ 'riposte:exempt': 'true' });
  });

  describe('cis-password-policy', () => {
    it.each(['securityhub-imported-cis-password-policy.json', 'securityhub-v2-ocsf-compliance.json', 'config-compliance-password-policy.json'])(
      'matches a failed password-policy control: %s',
      async (name) => {
        expect(await matches(fixture(name))).toEqual(['cis-password-policy']);
      },
    );

    it.each([
      ['IAM.7', 'NIST/PCI whole policy'],
      ['IAM.11', 'uppercase'],
      ['IAM.17', 'expiry'],
    ])('matches consolidated control %s (%s)', async (control) => {
      const event = variant('securityhub-imported-cis-password-policy.json', (e) => {
        e.detail.findings[0].Compliance.SecurityControlId = control;
      });
      expect(await matches(event)).toEqual(['cis-password-policy']);
    });

    it.each(['1.4.0/1.8', '3.0.0/1.9'])('matches by CIS rule %s when the control id is another standard’s', async (rule) => {
      const [version, number] = rule.split('/');
      const event = variant('securityhub-imported-cis-password-policy.json', (e) => {
        const finding = e.detail.findings[0];
        delete finding.Compliance.SecurityControlId;
        finding.ProductFields.RuleId = number;
        finding.ProductFields.StandardsGuideArn = `arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/${version}`;
        finding.ProductFields.StandardsControlArn = `arn:aws:securityhub:us-east-1:111122223333:control/cis-aws-foundations-benchmark/v/${version}/${number}`;
        finding.Compliance.AssociatedStandards = [];
        finding.Compliance.RelatedRequirements = [];
      });
      expect(await matches(event)).toEqual(['cis-password-policy']);
    });

    it('does not match a passed control, an archived finding, another control, or a compliant Config evaluation', async () => {
      expect(await matches(variant('securityhub-imported-cis-password-policy.json', (e) => (e.detail.findings[0].Compliance.Status = 'PASSED')))).toEqual([]);
      expect(await matches(variant('securityhub-imported-cis-password-policy.json', (e) => (e.detail.findings[0].RecordState = 'ARCHIVED')))).toEqual([]);
      expect(
        await matches(
          variant('securityhub-imported-cis-password-policy.json', (e) => {
            e.detail.findings[0].Compliance.SecurityControlId = 'IAM.4';
            e.detail.findings[0].ProductFields.RuleId = '1.12';
            delete e.detail.findings[0].ProductFields.StandardsControlArn;
            e.detail.findings[0].Compliance.RelatedRequirements = ['CIS AWS Foundations Benchmark v1.2.0/1.12'];
          }),
        ),
      ).toEqual([]);
      expect(await matches(variant('config-compliance-password-policy.json', (e) => (e.detail.newEvaluationResult.complianceType = 'COMPLIANT')))).toEqual([]);
      expect(await matches(variant('config-compliance-password-policy.json', (e) => (e.detail.configRuleName = 'root-account-mfa-enabled')))).toEqual([]);
    });
  });

  describe('ec2-compromise-isolate', () => {
    it.each(['guardduty-ec2-backdoor.json', 'securityhub-imported-guardduty-ec2.json', 'securityhub-v2-ocsf-detection.json', 'securityhub-custom-action.json'])(
      'matches a high-severity GuardDuty EC2 compromise: %s',
      async (name) => {
        expect(await matches(fixture(name))).toEqual(['ec2-compromise-isolate']);
      },
    );

    it.each(['CryptoCurrency:EC2/BitcoinTool.B!DNS', 'Trojan:EC2/DropPoint', 'UnauthorizedAccess:EC2/TorClient', 'Impact:EC2/MaliciousDomainRequest.Reputation'])('matches type %s', async (type) => {
      expect(await matches(variant('guardduty-ec2-backdoor.json', (e) => (e.detail.type = type)))).toEqual(['ec2-compromise-isolate']);
    });

    it('does not match medium severity, an IAM-user finding, a port probe, or an archived finding', async () => {
      expect(await matches(variant('guardduty-ec2-backdoor.json', (e) => (e.detail.severity = 6.9)))).toEqual([]);
      expect(await matches(fixture('guardduty-iam-accesskey.json'))).toEqual([]);
      expect(await matches(fixture('guardduty-govcloud-low.json'))).toEqual([]);
      expect(await matches(variant('guardduty-ec2-backdoor.json', (e) => (e.detail.service.archived = true)))).toEqual([]);
      expect(await matches(variant('guardduty-ec2-backdoor.json', (e) => (e.detail.type = 'Recon:EC2/PortProbeUnprotectedPort')))).toEqual([]);
    });

    it('runs from its own custom action only', async () => {
      const other = variant('securityhub-custom-action.json', (e) => (e.resources = ['arn:aws:securityhub:us-east-1:999988887777:action/custom/CisPasswordPolicy']));
      expect(await matches(other)).toEqual([]);
    });

    it('is the playbook an on-demand request runs, with or without naming it', async () => {
      const named = readApiRequest(fixtureText('api-request.json'), { principal: 'alice' }).findings[0] as Finding;
      const unnamed = readApiRequest({ instanceId: 'i-0a1b2c3d4e5f60718', account: '111122223333', region: 'us-east-1' }, { principal: 'alice' }).findings[0] as Finding;
      const otherPlaybook = readApiRequest({ instanceId: 'i-0a1b2c3d4e5f60718', account: '111122223333', region: 'us-east-1', playbook: 'cis-password-policy' }, { principal: 'alice' })
        .findings[0] as Finding;

      expect((await matcher.match(named)).map((m) => m.playbook.playbook.id)).toEqual(['ec2-compromise-isolate']);
      expect((await matcher.match(unnamed)).map((m) => m.playbook.playbook.id)).toEqual(['ec2-compromise-isolate']);
      // cis-password-policy is not bound to the API.
      expect(await matcher.match(otherPlaybook)).toEqual([]);
    });
  });

  describe('revoke-unrestricted-admin-ingress', () => {
    it.each(['securityhub-imported-open-ssh.json', 'config-compliance-restricted-ssh.json'])('matches an open SSH/RDP security group: %s', async (name) => {
      expect(await matches(fixture(name))).toEqual(['revoke-unrestricted-admin-ingress']);
    });

    it.each(['EC2.14', 'EC2.53', 'EC2.54'])('matches control %s', async (control) => {
      const event = variant('securityhub-imported-open-ssh.json', (e) => {
        e.detail.findings[0].Compliance.SecurityControlId = control;
        e.detail.findings[0].Compliance.RelatedRequirements = [];
      });
      expect(await matches(event)).toEqual(['revoke-unrestricted-admin-ingress']);
    });

    it('does not match a passed control or a different security group control', async () => {
      expect(await matches(variant('securityhub-imported-open-ssh.json', (e) => (e.detail.findings[0].Compliance.Status = 'PASSED')))).toEqual([]);
      const other = variant('securityhub-imported-open-ssh.json', (e) => {
        e.detail.findings[0].Compliance.SecurityControlId = 'EC2.18';
        e.detail.findings[0].Compliance.RelatedRequirements = [];
      });
      expect(await matches(other)).toEqual([]);
    });
  });

  describe('empty-default-security-group', () => {
    it('matches EC2.2 and its CIS numbers, and the Config rule', async () => {
      const ec22 = variant('securityhub-imported-open-ssh.json', (e) => {
        e.detail.findings[0].Compliance.SecurityControlId = 'EC2.2';
        e.detail.findings[0].Compliance.RelatedRequirements = ['CIS AWS Foundations Benchmark v1.2.0/4.3', 'CIS AWS Foundations Benchmark v3.0.0/5.4'];
      });
      const config = variant('config-compliance-restricted-ssh.json', (e) => (e.detail.configRuleName = 'vpc-default-security-group-closed'));

      expect(await matches(ec22)).toEqual(['empty-default-security-group']);
      expect(await matches(config)).toEqual(['empty-default-security-group']);
    });
  });

  it('matches nothing for findings no playbook covers', async () => {
    expect(await matches(fixture('securityhub-imported-unknown-product.json'))).toEqual([]);
    expect((await matcher.match(readEvent(fixture('securityhub-imported-batch-two.json')).findings[0] as Finding)).length).toBe(0);
  });

  it('explains each match with the conditions that held and their fact values', async () => {
    const [match] = await matcher.match(findingOf(fixture('securityhub-imported-cis-password-policy.json')));

    expect(match?.conditions).toEqual(
      expect.arrayContaining([
        { fact: 'trigger.kind', operator: 'equal', value: 'automatic', factValue: 'automatic', result: true },
        { fact: 'compliance.status', operator: 'equal', value: 'FAILED', factValue: 'FAILED', result: true },
        expect.objectContaining({ fact: 'control.id', operator: 'in', factValue: 'IAM.15', result: true }),
      ]),
    );
    expect(match?.conditions.every((condition) => condition.result)).toBe(true);
  });

  it('derives the member-account permissions from the steps', () => {
    const cis = library.find((compiled) => compiled.playbook.id === 'cis-password-policy');
    expect(cis?.permissions).toEqual({
      member: ['iam:DeleteAccountPasswordPolicy', 'iam:GetAccountPasswordPolicy', 'iam:UpdateAccountPasswordPolicy'],
      // The run's own notification is the pipeline's (Riposte's role), not a step's.
      hosting: [],
    });
  });
});
