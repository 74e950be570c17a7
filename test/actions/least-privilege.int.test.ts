import { afterEach, describe, expect, it } from 'vitest';

import { setPasswordPolicy, type PasswordPolicyUndo } from '../../src/actions/iam-set-password-policy.js';
import { actionContext } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { memberRoleWith, setIamEnforcement } from '../support/least-privilege.js';

const MEMBER = '222222222222';

/**
 * With moto's IAM enforcement on, each action runs as Riposte would: an IAM
 * user allowed only sts:AssumeRole, through the member role allowed exactly
 * what the action declares. A missing declaration fails here.
 */
describe('least privilege, with IAM enforcement on', () => {
  afterEach(async () => {
    await setIamEnforcement(false);
    await resetEmulator();
  });

  it('iam.set-password-policy runs, verifies and rolls back with exactly its declared permissions', async () => {
    const clients = await memberRoleWith(MEMBER, setPasswordPolicy.permissions.member);
    await setIamEnforcement(true);
    const context = actionContext('securityhub-imported-cis-password-policy.json', MEMBER, clients);
    const behaviour = setPasswordPolicy.behaviour;
    const params = setPasswordPolicy.params.parse({});

    const outcome = await behaviour.run(context, params);
    expect(outcome.changed).toBe(true);
    expect((await behaviour.verify(context, params)).compliant).toBe(true);
    await behaviour.rollback?.(context, outcome.undo as PasswordPolicyUndo);
    expect((await behaviour.verify(context, params)).compliant).toBe(false);
  });

  it('is denied when the role lacks one of the declared permissions', async () => {
    const clients = await memberRoleWith(
      MEMBER,
      setPasswordPolicy.permissions.member.filter((permission) => permission !== 'iam:UpdateAccountPasswordPolicy'),
    );
    await setIamEnforcement(true);
    const context = actionContext('securityhub-imported-cis-password-policy.json', MEMBER, clients);
    const behaviour = setPasswordPolicy.behaviour;

    await expect(behaviour.run(context, setPasswordPolicy.params.parse({}))).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
