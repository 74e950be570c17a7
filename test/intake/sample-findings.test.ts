import { describe, expect, it } from 'vitest';

import { readEvent, type Finding } from '../../src/intake/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';
import { asffFixture, guardDutyFixture, type GuardDutyDetail } from './editable-events.js';

const only = (event: unknown): Finding => {
  const result = readEvent(event);
  expect(result.rejected).toEqual([]);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};

describe('sample findings (issue 11, case 8)', () => {
  it('marks guardduty-ec2-sample.json (additionalInfo.value {"sample":true}) a sample, naming the field and value', () => {
    const finding = only(fixtureText('guardduty-ec2-sample.json'));

    expect(finding.sample?.reason).toContain('detail.service.additionalInfo.value');
    expect(finding.sample?.reason).toContain('"sample": true');
    expect(finding.severity.label).toBe('HIGH');
  });

  it('marks a native GuardDuty finding whose additionalInfo is the object { sample: true }', () => {
    const { event, detail } = guardDutyFixture('guardduty-ec2-backdoor.json');
    detail.service.additionalInfo = { sample: true };

    expect(only(event).sample).toEqual({ reason: 'detail.service.additionalInfo.sample is true: GuardDuty generated this finding as a sample' });
  });

  it('marks securityhub-imported-guardduty-sample.json (ProductFields aws/guardduty/service/additionalInfo/sample "true") a sample', () => {
    const finding = only(fixtureText('securityhub-imported-guardduty-sample.json'));

    expect(finding.product).toMatchObject({ id: 'guardduty', owner: 'aws' });
    expect(finding.sample).toEqual({
      reason: 'detail.findings[0].ProductFields["aws/guardduty/service/additionalInfo/sample"] is "true": GuardDuty generated this finding as a sample',
    });
  });

  it('marks an ASFF GuardDuty finding whose ProductFields additionalInfo/value says "sample": true', () => {
    const { event, record } = asffFixture('securityhub-imported-guardduty-ec2.json');
    record.ProductFields = { ...record.ProductFields, 'aws/guardduty/service/additionalInfo/value': '{"threatListName":"ProofPoint","sample":true}' };

    expect(only(event).sample?.reason).toContain('"aws/guardduty/service/additionalInfo/value"');
  });

  it.each([
    ['the real backdoor finding', (): void => undefined],
    ['additionalInfo.value {"sample":false}', (detail: GuardDutyDetail) => void (detail.service.additionalInfo = { value: '{"sample":false}', type: 'default' })],
    ['additionalInfo.value that is not JSON but mentions sample', (detail: GuardDutyDetail) => void (detail.service.additionalInfo = { value: 'sample', type: 'default' })],
    ['additionalInfo null', (detail: GuardDutyDetail) => void (detail.service.additionalInfo = null)],
  ])('does not mark %s', (_label, change) => {
    const { event, detail } = guardDutyFixture('guardduty-ec2-backdoor.json');
    change(detail);

    expect(only(event).sample).toBeUndefined();
  });

  it('does not mark the real GuardDuty finding through Security Hub', () => {
    expect(only(fixture('securityhub-imported-guardduty-ec2.json')).sample).toBeUndefined();
  });
});
