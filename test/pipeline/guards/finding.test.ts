import { describe, expect, it } from 'vitest';

import { readEvent, type Finding } from '../../../src/intake/index.js';
import { findingSkip, isOwnUpdate } from '../../../src/pipeline/guards/finding.js';
import { fixture } from '../../support/fixtures.js';

const cis = (): Finding => readEvent(fixture('securityhub-imported-cis-password-policy.json')).findings[0] as Finding;
const with_ = (base: Finding, change: Partial<Finding>): Finding => ({ ...base, ...change });

describe('isOwnUpdate', () => {
  it('recognises the stored fixture of a finding Riposte noted after its last provider update', () => {
    const finding = readEvent(fixture('securityhub-imported-riposte-note.json')).findings[0] as Finding;
    expect(isOwnUpdate(finding)).toBe(true);
  });

  it('is false without a note, or with somebody else’s note', () => {
    const base = cis();
    expect(isOwnUpdate(with_(base, { note: undefined }))).toBe(false);
    expect(isOwnUpdate(with_(base, { note: { text: 'looking into it', updatedBy: 'alice', updatedAt: '2099-01-01T00:00:00Z' } }))).toBe(false);
  });

  it('is false once the provider updated the finding after Riposte’s note (the control failed again)', () => {
    const base = cis();
    const note = { text: '[riposte run r-1 playbook p] RESOLVED', updatedBy: 'riposte', updatedAt: '2025-03-14T09:00:00Z' };
    expect(isOwnUpdate(with_(base, { note, updatedAt: '2025-03-14T08:59:59Z' }))).toBe(true);
    expect(isOwnUpdate(with_(base, { note, updatedAt: '2025-03-14T09:00:00Z' }))).toBe(true);
    expect(isOwnUpdate(with_(base, { note, updatedAt: '2025-03-14T09:00:01Z' }))).toBe(false);
  });

  it('recognises an OCSF comment (no author) by Riposte’s marker', () => {
    const base = cis();
    expect(isOwnUpdate(with_(base, { note: { text: '[riposte run r-1] RESOLVED' } }))).toBe(true);
    expect(isOwnUpdate(with_(base, { note: { text: 'riposte did it' } }))).toBe(false);
  });
});

describe('findingSkip', () => {
  it('drops Riposte’s own update only for automatic deliveries: a person asking still runs', () => {
    const own = readEvent(fixture('securityhub-imported-riposte-note.json')).findings[0] as Finding;
    expect(findingSkip(own)?.code).toBe('own-update');
    const asked = with_(own, {
      trigger: { kind: 'custom-action', actionId: 'CisPasswordPolicy', actionName: 'CIS password policy', actionArn: 'arn:aws:securityhub:us-east-1:123456789012:action/custom/CisPasswordPolicy' },
    });
    expect(findingSkip(asked)).toBeUndefined();
  });

  it.each([
    [{ workflow: 'RESOLVED' }, 'RESOLVED'],
    [{ workflow: 'SUPPRESSED' }, 'SUPPRESSED'],
    [{ recordState: 'ARCHIVED' }, 'archived'],
  ] as const)('leaves closed findings alone (%o)', (change, word) => {
    const skip = findingSkip(with_(cis(), change));
    expect(skip).toMatchObject({ code: 'closed', reason: expect.stringContaining(word) });
  });

  it('lets an active, new finding through', () => {
    expect(findingSkip(cis())).toBeUndefined();
  });
});
