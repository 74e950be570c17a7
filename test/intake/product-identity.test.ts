import { describe, expect, it } from 'vitest';

import { readEvent, type Finding } from '../../src/intake/index.js';
import { fixture } from '../support/fixtures.js';
import { asffFixture, ocsfFixture } from './editable-events.js';

const GUARDDUTY_ASFF = 'securityhub-imported-guardduty-ec2.json';
const OPEN_SSH = 'securityhub-imported-open-ssh.json';
const UNKNOWN_PRODUCT = 'securityhub-imported-unknown-product.json';
const OCSF_DETECTION = 'securityhub-v2-ocsf-detection.json';
const OCSF_COMPLIANCE = 'securityhub-v2-ocsf-compliance.json';

const only = (event: unknown): Finding => {
  const result = readEvent(event);
  expect(result.rejected).toEqual([]);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};

/** An id AWS could own: no `/`. Every other product's id has one. */
const isAwsSlug = (id: string): boolean => !id.includes('/');

describe('product identity: ASFF (issue 11, case 5)', () => {
  it('trusts product/aws/guardduty with no account, in the finding’s own region and partition', () => {
    expect(only(fixture(GUARDDUTY_ASFF)).product).toMatchObject({ id: 'guardduty', owner: 'aws', arn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' });
  });

  it.each([
    [
      'an account id in the ARN (ProductArn arn:aws:securityhub:us-east-1:123456789012:product/aws/guardduty)',
      'arn:aws:securityhub:us-east-1:123456789012:product/aws/guardduty',
      '123456789012/guardduty',
    ],
    ['another region (ProductArn …:eu-west-1::product/aws/guardduty on a us-east-1 finding)', 'arn:aws:securityhub:eu-west-1::product/aws/guardduty', 'unverified/guardduty'],
    ['another partition (ProductArn arn:aws-cn:securityhub:us-east-1::product/aws/guardduty)', 'arn:aws-cn:securityhub:us-east-1::product/aws/guardduty', 'unverified/guardduty'],
    ['another service (ProductArn arn:aws:guardduty:us-east-1::product/aws/guardduty)', 'arn:aws:guardduty:us-east-1::product/aws/guardduty', 'unverified/guardduty'],
  ])('does not make a GuardDuty finding of %s', (_label, productArn, id) => {
    const { event, record } = asffFixture(GUARDDUTY_ASFF);
    record.ProductArn = productArn;

    const finding = only(event);

    expect(finding.product).toMatchObject({ id, owner: 'third-party', arn: productArn });
    // The GuardDuty type recovered from the type path is for GuardDuty's own findings only.
    expect(finding.types).toEqual(['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS']);
  });

  it('keeps the account’s default product third-party, whatever ProductName and CompanyName say', () => {
    const { event, record } = asffFixture(UNKNOWN_PRODUCT);
    Object.assign(record, { ProductName: 'GuardDuty', CompanyName: 'Amazon' });

    expect(only(event).product).toEqual({
      id: '123456789012/default',
      owner: 'third-party',
      name: 'GuardDuty',
      company: 'Amazon',
      arn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
    });
  });

  it('names a partner product <company>/<product>', () => {
    const { event, record } = asffFixture(UNKNOWN_PRODUCT);
    record.ProductArn = 'arn:aws:securityhub:us-east-1::product/crowdstrike/crowdstrike-falcon';

    expect(only(event).product).toMatchObject({ id: 'crowdstrike/crowdstrike-falcon', owner: 'third-party' });
  });

  it('checks the product ARN against the finding’s Region, not the region the event was delivered in (cross-region aggregation)', () => {
    const { event, record } = asffFixture(GUARDDUTY_ASFF);
    event.region = 'eu-west-1';
    Object.assign(record, { Region: 'us-west-2', ProductArn: 'arn:aws:securityhub:us-west-2::product/aws/guardduty' });

    expect(only(event).product).toMatchObject({ id: 'guardduty', owner: 'aws' });
  });
});

describe('control ids: ASFF (issue 11, case 5)', () => {
  it('reads no control from a default product’s ProductFields.ControlId: EC2.13', () => {
    const { event, record } = asffFixture(UNKNOWN_PRODUCT);
    record.ProductFields = {
      ControlId: 'EC2.13',
      StandardsArn: 'arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0',
      StandardsControlArn: 'arn:aws:securityhub:us-east-1:123456789012:control/aws-foundational-security-best-practices/v/1.0.0/EC2.13',
      RuleId: '4.1',
    };

    expect(only(event).control).toBeUndefined();
  });

  it('reads a default product’s Compliance.SecurityControlId, and nothing from its ProductFields', () => {
    const { event, record } = asffFixture(UNKNOWN_PRODUCT);
    Object.assign(record, {
      ProductFields: { ControlId: '4.1', StandardsGuideArn: 'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0' },
      Compliance: { Status: 'FAILED', SecurityControlId: 'EC2.13' },
    });

    expect(only(event).control).toEqual({ id: 'EC2.13', securityControlId: 'EC2.13', standards: [], cisRules: [], relatedRequirements: [] });
  });

  it('reads no control from ProductFields of a product/aws/securityhub ARN in another region', () => {
    const { event, record } = asffFixture(OPEN_SSH);
    record.ProductArn = 'arn:aws:securityhub:eu-west-1::product/aws/securityhub';
    delete record.Compliance;
    record.ProductFields = { ControlId: 'EC2.13', StandardsArn: 'arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0' };

    const finding = only(event);

    expect(finding.product).toMatchObject({ id: 'unverified/securityhub', owner: 'third-party' });
    expect(finding.control).toBeUndefined();
  });

  it('still reads the standard’s own control from Security Hub’s own product', () => {
    const { event, record } = asffFixture(OPEN_SSH);
    delete record.Compliance;
    record.ProductFields = {
      ...record.ProductFields,
      StandardsArn: 'arn:aws:securityhub:::standards/aws-foundational-security-best-practices/v/1.0.0',
      ControlId: 'EC2.13',
    };

    expect(only(event).control).toMatchObject({ id: 'EC2.13', standardControlId: 'EC2.13', standards: expect.arrayContaining(['aws-foundational-security-best-practices/v/1.0.0']) });
  });
});

describe('product identity: OCSF (issue 11, case 5)', () => {
  it('trusts metadata.product.uid productv2/aws/guardduty with no account, in cloud.region and the partition', () => {
    expect(only(fixture(OCSF_DETECTION)).product).toMatchObject({ id: 'guardduty', owner: 'aws', name: 'GuardDuty' });
    expect(only(fixture(OCSF_COMPLIANCE)).product).toMatchObject({ id: 'securityhub', owner: 'aws' });
  });

  it('does not make a GuardDuty finding of metadata.product.name "GuardDuty" with no uid', () => {
    const { event, record } = ocsfFixture(OCSF_DETECTION);
    record.metadata.product = { name: 'GuardDuty', vendor_name: 'AWS' };

    const product = only(event).product;

    expect(product).toEqual({ id: 'unverified/guardduty', owner: 'third-party', name: 'GuardDuty', company: 'AWS' });
    expect(isAwsSlug(product.id)).toBe(false);
  });

  it.each([
    ['an account id (arn:aws:securityhub:us-east-1:444455556666:productv2/aws/guardduty)', 'arn:aws:securityhub:us-east-1:444455556666:productv2/aws/guardduty', '444455556666/guardduty'],
    ['another region (…:eu-west-1::productv2/aws/guardduty)', 'arn:aws:securityhub:eu-west-1::productv2/aws/guardduty', 'unverified/guardduty'],
    ['another partition (arn:aws-us-gov:…:us-east-1::productv2/aws/guardduty)', 'arn:aws-us-gov:securityhub:us-east-1::productv2/aws/guardduty', 'unverified/guardduty'],
    ['no product ARN (uid "guardduty")', 'guardduty', 'unverified/guardduty'],
  ])('does not make a GuardDuty finding of a uid ending /aws/guardduty with %s', (_label, uid, id) => {
    const { event, record } = ocsfFixture(OCSF_DETECTION);
    record.metadata.product.uid = uid;

    expect(only(event).product).toMatchObject({ id, owner: 'third-party' });
  });

  it('refuses the uid when the finding’s own cloud.cloud_partition disagrees with its region', () => {
    const { event, record } = ocsfFixture(OCSF_DETECTION);
    record.cloud.cloud_partition = 'aws-cn';

    expect(only(event).product).toMatchObject({ id: 'unverified/guardduty', owner: 'third-party' });
  });

  it('reads the ASFF form product/aws/<service> in an OCSF uid the same way', () => {
    const { event, record } = ocsfFixture(OCSF_DETECTION);
    record.metadata.product.uid = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';

    expect(only(event).product).toMatchObject({ id: 'guardduty', owner: 'aws' });
  });
});
