import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';

import { setPasswordPolicy, type PasswordPolicyUndo } from '../../src/actions/iam-set-password-policy.js';
import { actionContext } from '../support/action-context.js';
import { emulatorClientFactory, resetEmulator } from '../support/emulator.js';

const MEMBER = '222222222222';
const behaviour = setPasswordPolicy.behaviour;
const cis = setPasswordPolicy.params.parse({});

const context = () => actionContext('securityhub-imported-cis-password-policy.json', MEMBER);
const readPolicy = async (ctx = context()) => {
  try {
    return (await ctx.clients.create(IAMClient, ctx.target).send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return undefined;
    throw error;
  }
};

describe('iam.set-password-policy against the emulator, in member account 222222222222', () => {
  // This worker's emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('plans, sets, verifies, changes nothing the second time, and rolls back to the weak policy', async () => {
    const ctx = context();
    await ctx.clients.create(IAMClient, ctx.target).send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));

    const plan = await behaviour.plan(ctx, cis);
    expect(plan.compliant).toBe(false);
    expect(plan.changes).toContainEqual({ field: 'MinimumPasswordLength', from: 8, to: 14 });
    expect((await readPolicy())?.MinimumPasswordLength).toBe(8); // plan changes nothing
    expect((await behaviour.verify(ctx, cis)).compliant).toBe(false);

    const first = await behaviour.run(ctx, cis);

    expect(first.changed).toBe(true);
    expect(await readPolicy()).toMatchObject({
      MinimumPasswordLength: 14,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      RequireSymbols: true,
      RequireNumbers: true,
      PasswordReusePrevention: 24,
      MaxPasswordAge: 90,
    });
    expect(await behaviour.verify(ctx, cis)).toEqual({ compliant: true, summary: 'password policy meets the CIS values' });

    const second = await behaviour.run(ctx, cis);
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(second.undo).toBeUndefined();

    await behaviour.rollback?.(ctx, first.undo as PasswordPolicyUndo);
    const restored = await readPolicy();
    expect(restored).toMatchObject({ MinimumPasswordLength: 8, RequireNumbers: true, RequireSymbols: false, RequireUppercaseCharacters: false });
    expect(restored?.MaxPasswordAge ?? 0).toBe(0);
  });

  it('never weakens a stricter existing setting', async () => {
    const ctx = context();
    await ctx.clients
      .create(IAMClient, ctx.target)
      .send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 20, MaxPasswordAge: 30, PasswordReusePrevention: 24, HardExpiry: true, RequireSymbols: true }));

    await behaviour.run(ctx, cis);

    expect(await readPolicy()).toMatchObject({ MinimumPasswordLength: 20, MaxPasswordAge: 30, PasswordReusePrevention: 24, HardExpiry: true, RequireSymbols: true, RequireNumbers: true });
  });

  it('deletes the policy on rollback when the account had none', async () => {
    const ctx = context();
    expect(await readPolicy()).toBeUndefined();

    const outcome = await behaviour.run(ctx, cis);
    expect(outcome.undo).toEqual({ previous: null });
    await behaviour.rollback?.(ctx, outcome.undo as PasswordPolicyUndo);

    expect(await readPolicy()).toBeUndefined();
  });

  it('changes only the member account, not the hosting one', async () => {
    await behaviour.run(context(), cis);

    await expect(emulatorClientFactory().create(IAMClient).send(new GetAccountPasswordPolicyCommand({}))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    expect((await readPolicy())?.MinimumPasswordLength).toBe(14);
  });
});
