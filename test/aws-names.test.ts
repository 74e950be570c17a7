import { describe, expect, it } from 'vitest';

import { parsePrincipalList, principalAdmits } from '../src/aws-names.js';

describe('parsePrincipalList (the apiPrincipals stage parameter)', () => {
  it('splits accounts from principal ARNs and names what is neither', () => {
    expect(parsePrincipalList(' 111122223333, arn:aws:iam::999988887777:role/ops/SecOpsResponder,,arn:aws:iam::*:root, alice ')).toEqual({
      list: { accounts: ['111122223333'], arns: ['arn:aws:iam::999988887777:role/ops/SecOpsResponder'] },
      refused: ['arn:aws:iam::*:root', 'alice'],
    });
  });
});

describe('principalAdmits (what the API resource policy admits, checked again by the function)', () => {
  const list = parsePrincipalList('111122223333,arn:aws:iam::999988887777:role/ops/SecOpsResponder,arn:aws:iam::999988887777:user/carol').list;

  it.each([
    ['any principal of a listed account', 'arn:aws:sts::111122223333:assumed-role/Anything/x', true],
    ['a session of the listed role (its ARN drops the role’s path)', 'arn:aws:sts::999988887777:assumed-role/SecOpsResponder/alice', true],
    ['the listed user', 'arn:aws:iam::999988887777:user/carol', true],
    ['another role of that account', 'arn:aws:sts::999988887777:assumed-role/Developer/bob', false],
    ['the role’s name in another account', 'arn:aws:sts::444455556666:assumed-role/SecOpsResponder/mallory', false],
    ['a user named as the role', 'arn:aws:iam::999988887777:user/SecOpsResponder', false],
    ['the account’s root, not listed', 'arn:aws:iam::999988887777:root', false],
    ['another partition', 'arn:aws-cn:sts::999988887777:assumed-role/SecOpsResponder/alice', false],
    ['no ARN', 'alice@example.com', false],
  ])('%s: %s → %s', (_, caller, admitted) => {
    expect(principalAdmits(list, caller, '123456789012')).toBe(admitted);
  });

  it('admits the function’s own account only when the list is empty, as the deployed policy does', () => {
    const empty = parsePrincipalList('').list;
    expect(principalAdmits(empty, 'arn:aws:sts::123456789012:assumed-role/Ops/x', '123456789012')).toBe(true);
    expect(principalAdmits(empty, 'arn:aws:sts::999988887777:assumed-role/Ops/x', '123456789012')).toBe(false);
  });
});
