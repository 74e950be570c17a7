import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { EXEMPTION_TAGS, accountExemption, resourceExemption } from '../../../src/pipeline/guards/exemption.js';

const EXEMPT = { 'riposte:exempt': 'true' } as const;
const at = (iso: string): Date => new Date(iso);

describe('resourceExemption', () => {
  it('exempts a resource carrying the exempt tag with its value', () => {
    expect(resourceExemption(EXEMPT, { 'riposte:exempt': 'true', Name: 'web' }, at('2026-11-24T10:00:00Z'))).toEqual({
      exempt: true,
      by: 'tag',
      reason: 'exempt by resource tag riposte:exempt=true',
    });
  });

  it('does not exempt a resource without the tag, with another value, or with no tags', () => {
    const now = at('2026-11-24T10:00:00Z');
    expect(resourceExemption(EXEMPT, {}, now)).toEqual({ exempt: false });
    expect(resourceExemption(EXEMPT, { 'riposte:exempt': 'false' }, now)).toEqual({ exempt: false });
    expect(resourceExemption(EXEMPT, { 'riposte:exempt': 'truthy' }, now)).toEqual({ exempt: false });
    expect(resourceExemption({}, { 'riposte:exempt': 'true' }, now)).toEqual({ exempt: false });
  });

  it('compares keys exactly but values regardless of case and surrounding spaces', () => {
    const now = at('2026-11-24T10:00:00Z');
    expect(resourceExemption(EXEMPT, { 'riposte:exempt': 'TRUE' }, now)).toMatchObject({ exempt: true, reason: 'exempt by resource tag riposte:exempt=TRUE' });
    expect(resourceExemption(EXEMPT, { 'riposte:exempt': ' True ' }, now)).toMatchObject({ exempt: true });
    expect(resourceExemption(EXEMPT, { 'Riposte:Exempt': 'true' }, now)).toEqual({ exempt: false });
    expect(resourceExemption(EXEMPT, { 'riposte:exempt ': 'true' }, now)).toEqual({ exempt: false });
  });

  it('exempts on any one of several exempt tags, naming every one the resource carries', () => {
    const exemptTags = { 'riposte:exempt': 'true', 'change-freeze': 'yes', team: 'forensics' };
    const now = at('2026-11-24T10:00:00Z');

    expect(resourceExemption(exemptTags, { team: 'forensics' }, now)).toMatchObject({ exempt: true, reason: 'exempt by resource tag team=forensics' });
    expect(resourceExemption(exemptTags, { 'change-freeze': 'YES', team: 'forensics', 'riposte:exempt': 'no' }, now)).toMatchObject({
      exempt: true,
      reason: 'exempt by resource tag change-freeze=YES, team=forensics',
    });
    expect(resourceExemption(exemptTags, { team: 'web' }, now)).toEqual({ exempt: false });
  });

  it('reports the owner when the resource names one', () => {
    expect(resourceExemption(EXEMPT, { 'riposte:exempt': 'true', [EXEMPTION_TAGS.owner]: 'team@example.com' }, at('2026-11-24T10:00:00Z'))).toEqual({
      exempt: true,
      by: 'tag',
      reason: 'exempt by resource tag riposte:exempt=true (owner team@example.com)',
      owner: 'team@example.com',
    });
  });

  describe('with riposte:exempt-until as a date', () => {
    const tags = { 'riposte:exempt': 'true', 'riposte:exempt-until': '2027-01-31', 'riposte:exempt-owner': 'team@example.com' };

    it('protects through the last millisecond of that day, UTC', () => {
      expect(resourceExemption(EXEMPT, tags, at('2027-01-31T23:59:59.999Z'))).toEqual({
        exempt: true,
        by: 'tag',
        reason: 'exempt by resource tag riposte:exempt=true until 2027-01-31 (owner team@example.com)',
        until: '2027-01-31',
        owner: 'team@example.com',
      });
    });

    it('no longer protects from midnight UTC after it, and says so', () => {
      expect(resourceExemption(EXEMPT, tags, at('2027-02-01T00:00:00.000Z'))).toEqual({
        exempt: false,
        reason: 'exemption riposte:exempt=true expired on 2027-01-31 (owner team@example.com)',
        until: '2027-01-31',
        owner: 'team@example.com',
      });
    });

    it('reads the day in UTC, whatever the offset of the moment compared', () => {
      // 2027-02-01T01:00+02:00 is still 2027-01-31 23:00 UTC.
      expect(resourceExemption(EXEMPT, tags, at('2027-02-01T01:00:00+02:00')).exempt).toBe(true);
    });
  });

  describe('with riposte:exempt-until as a timestamp', () => {
    const tagged = (until: string) => ({ 'riposte:exempt': 'true', 'riposte:exempt-until': until });

    it('protects until that instant, not after', () => {
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T18:00:00Z'), at('2027-01-31T17:59:59.999Z')).exempt).toBe(true);
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T18:00:00Z'), at('2027-01-31T18:00:00Z'))).toEqual({
        exempt: false,
        reason: 'exemption riposte:exempt=true expired on 2027-01-31T18:00:00Z',
        until: '2027-01-31T18:00:00Z',
      });
    });

    it('honours offsets (with or without a colon), fractions, and reads a timestamp without a zone as UTC', () => {
      const now = at('2027-01-31T16:30:00Z');
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T18:00:00+02:00'), now).exempt).toBe(false);
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T18:00:00+0200'), now).exempt).toBe(false);
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T18:00:00-02:00'), now).exempt).toBe(true);
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T16:30:00.001Z'), now).exempt).toBe(true);
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T16:30'), now).exempt).toBe(false);
      expect(resourceExemption(EXEMPT, tagged('2027-01-31T16:31'), now).exempt).toBe(true);
    });
  });

  it.each(['soon', '31/01/2027', '2027-02-30', '2027-13-01', '2027-01-31T24:00:00Z', '2027-01-31T18:60:00Z', '', '2027-1-31'])(
    'keeps the exemption when riposte:exempt-until %j cannot be read, and says so',
    (until) => {
      const decision = resourceExemption(EXEMPT, { 'riposte:exempt': 'true', 'riposte:exempt-until': until }, at('2099-01-01T00:00:00Z'));

      expect(decision).toEqual({
        exempt: true,
        by: 'tag',
        reason: `exempt by resource tag riposte:exempt=true; its riposte:exempt-until ${JSON.stringify(until)} could not be read as a date (YYYY-MM-DD or an ISO 8601 timestamp), so the exemption is kept`,
        until,
      });
    },
  );

  it('ignores riposte:exempt-until on a resource that is not exempt', () => {
    expect(resourceExemption(EXEMPT, { 'riposte:exempt-until': '2020-01-01' }, at('2026-11-24T10:00:00Z'))).toEqual({ exempt: false });
  });

  it('does not take inherited object keys for tags', () => {
    expect(resourceExemption({ constructor: 'true', toString: 'x' }, {}, at('2026-11-24T10:00:00Z'))).toEqual({ exempt: false });
  });
});

describe('accountExemption', () => {
  const now = at('2026-11-24T10:00:00Z');

  it('always exempts an account the deployment excludes, whatever the playbook says', () => {
    expect(accountExemption([{ id: '111122223333', until: '2020-01-01' }], ['111122223333'], '111122223333', now)).toEqual({
      exempt: true,
      by: 'excluded-account',
      reason: 'account 111122223333 is excluded from remediation in this deployment',
    });
  });

  it('exempts an account the playbook lists, with its owner, and no other', () => {
    const accounts = [{ id: '111122223333', owner: 'payments@example.com' }];
    expect(accountExemption(accounts, [], '111122223333', now)).toEqual({
      exempt: true,
      by: 'account',
      reason: 'account 111122223333 is exempt from this playbook (owner payments@example.com)',
      owner: 'payments@example.com',
    });
    expect(accountExemption(accounts, ['999999999999'], '444455556666', now)).toEqual({ exempt: false });
  });

  it('protects through the until day, UTC, then reports the expiry', () => {
    const accounts = [{ id: '111122223333', until: '2027-01-31', owner: 'payments@example.com' }];
    expect(accountExemption(accounts, [], '111122223333', at('2027-01-31T23:59:59.999Z'))).toMatchObject({
      exempt: true,
      by: 'account',
      reason: 'account 111122223333 is exempt from this playbook until 2027-01-31 (owner payments@example.com)',
      until: '2027-01-31',
    });
    expect(accountExemption(accounts, [], '111122223333', at('2027-02-01T00:00:00Z'))).toEqual({
      exempt: false,
      reason: 'exemption of account 111122223333 expired on 2027-01-31 (owner payments@example.com)',
      until: '2027-01-31',
      owner: 'payments@example.com',
    });
  });

  it('takes a timestamp until as that instant', () => {
    const accounts = [{ id: '111122223333', until: '2026-11-24T09:59:59Z' }];
    expect(accountExemption(accounts, [], '111122223333', now).exempt).toBe(false);
  });

  it('exempts while any of several entries for the account is in force, and reports the latest expiry otherwise', () => {
    const accounts = [
      { id: '111122223333', until: '2026-01-01' },
      { id: '111122223333', until: '2026-12-31' },
      { id: '111122223333', until: '2026-06-30' },
    ];
    expect(accountExemption(accounts, [], '111122223333', now)).toMatchObject({ exempt: true, until: '2026-12-31' });
    expect(accountExemption(accounts, [], '111122223333', at('2027-03-01T00:00:00Z'))).toMatchObject({ exempt: false, reason: 'exemption of account 111122223333 expired on 2026-12-31' });
  });

  it('keeps an exemption whose until cannot be read', () => {
    expect(accountExemption([{ id: '111122223333', until: '2026-02-30' }], [], '111122223333', now)).toMatchObject({
      exempt: true,
      by: 'account',
      reason: expect.stringContaining('could not be read as a date, so the exemption is kept'),
    });
  });
});

describe('exemption properties', () => {
  const day = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true });
  const exemptValue = fc.constantFrom('true', 'TRUE', 'True', 'yes');
  const dateOnly = (date: Date): string => date.toISOString().slice(0, 10);

  it('an expired until never exempts (date or timestamp)', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), fc.boolean(), exemptValue, (until, after, asDate, value) => {
        const text = asDate ? dateOnly(until) : until.toISOString();
        const endsAt = asDate ? Date.parse(`${dateOnly(until)}T00:00:00Z`) + 86_400_000 : until.getTime();
        const now = new Date(endsAt + after);
        const decision = resourceExemption({ 'riposte:exempt': value }, { 'riposte:exempt': value.toLowerCase(), 'riposte:exempt-until': text }, now);
        expect(decision.exempt).toBe(false);
        expect(decision.reason).toContain(`expired on ${text}`);
        expect(accountExemption([{ id: '111122223333', until: text }], [], '111122223333', now).exempt).toBe(false);
      }),
    );
  });

  it('a future until always exempts when the tag matches (date or timestamp)', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 10 * 365 * 86_400_000 }), fc.boolean(), exemptValue, (until, before, asDate, value) => {
        const text = asDate ? dateOnly(until) : until.toISOString();
        const endsAt = asDate ? Date.parse(`${dateOnly(until)}T00:00:00Z`) + 86_400_000 : until.getTime();
        const now = new Date(endsAt - before);
        const decision = resourceExemption({ 'riposte:exempt': value }, { 'riposte:exempt': value.toUpperCase(), 'riposte:exempt-until': text }, now);
        expect(decision).toMatchObject({ exempt: true, by: 'tag', until: text });
        expect(accountExemption([{ id: '111122223333', until: text }], [], '111122223333', now).exempt).toBe(true);
      }),
    );
  });

  it('an excluded account is exempt whatever the playbook lists', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{12}$/),
        fc.array(fc.record({ id: fc.stringMatching(/^\d{12}$/), until: fc.option(fc.string(), { nil: undefined }) }, { requiredKeys: ['id'] })),
        day,
        (account, entries, now) => {
          expect(accountExemption(entries, [account], account, now)).toMatchObject({ exempt: true, by: 'excluded-account' });
        },
      ),
    );
  });

  it('never exempts a resource that carries none of the exempt tags', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), fc.dictionary(fc.string({ minLength: 1 }), fc.string()), day, (exemptTags, tags, now) => {
        const carries = Object.entries(exemptTags).some(([key, value]) => Object.hasOwn(tags, key) && tags[key]?.trim().toLowerCase() === value.trim().toLowerCase());
        expect(resourceExemption(exemptTags, tags, now).exempt).toBe(carries);
      }),
    );
  });
});
