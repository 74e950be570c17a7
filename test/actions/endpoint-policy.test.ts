import { describe, expect, it } from 'vitest';

import { allowsAnyone } from '../../src/actions/ec2-isolate.js';

describe('allowsAnyone: an endpoint policy that is no limit', () => {
  it('is AWS’s default full-access policy, an absent or unreadable one, or any unconditional Allow to every principal', () => {
    expect(allowsAnyone(JSON.stringify({ Statement: [{ Action: '*', Effect: 'Allow', Principal: '*', Resource: '*' }] }))).toBe(true);
    expect(allowsAnyone(undefined)).toBe(true);
    expect(allowsAnyone('')).toBe(true);
    expect(allowsAnyone('{not json')).toBe(true);
    expect(allowsAnyone(JSON.stringify({ Statement: { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: 'ssm:*', Resource: '*' } }))).toBe(true);
  });

  it('is not a policy that allows only under a condition, only named principals, or only denies', () => {
    const orgOnly = { Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }] };
    expect(allowsAnyone(JSON.stringify(orgOnly))).toBe(false);
    expect(allowsAnyone(JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: '*', Resource: '*' }] }))).toBe(false);
    expect(allowsAnyone(JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }] }))).toBe(false);
  });
});
