import { DeleteAccountPasswordPolicyCommand, GetAccountPasswordPolicyCommand, IAMClient, NoSuchEntityException, UpdateAccountPasswordPolicyCommand, type PasswordPolicy } from '@aws-sdk/client-iam';
import * as z from '../zod.js';

import { defineAction } from './registry.js';
import type { ActionContext, PlannedChange } from './runtime.js';

const params = z.strictObject({
  minimumPasswordLength: z._default(z.number().check(z.int(), z.minimum(14), z.maximum(128)), 14),
  requireUppercaseCharacters: z._default(z.boolean(), true),
  requireLowercaseCharacters: z._default(z.boolean(), true),
  requireSymbols: z._default(z.boolean(), true),
  requireNumbers: z._default(z.boolean(), true),
  passwordReusePrevention: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(24)), 24),
  maxPasswordAge: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(90)), 90),
  allowUsersToChangePassword: z._default(z.boolean(), true),
  hardExpiry: z._default(z.boolean(), false),
});
type Params = z.output<typeof params>;

/** The fields UpdateAccountPasswordPolicy takes: it resets every one left out, so all are always sent. */
export interface AccountPasswordPolicy {
  readonly MinimumPasswordLength: number;
  readonly RequireUppercaseCharacters: boolean;
  readonly RequireLowercaseCharacters: boolean;
  readonly RequireSymbols: boolean;
  readonly RequireNumbers: boolean;
  readonly PasswordReusePrevention?: number;
  readonly MaxPasswordAge?: number;
  readonly AllowUsersToChangePassword: boolean;
  readonly HardExpiry: boolean;
}

/** What the change replaced: the previous policy, or `null` when the account had none. */
export type PasswordPolicyUndo = { readonly previous: AccountPasswordPolicy | null };

const FIELDS = [
  'MinimumPasswordLength',
  'RequireUppercaseCharacters',
  'RequireLowercaseCharacters',
  'RequireSymbols',
  'RequireNumbers',
  'PasswordReusePrevention',
  'MaxPasswordAge',
  'AllowUsersToChangePassword',
  'HardExpiry',
] as const satisfies readonly (keyof AccountPasswordPolicy)[];

async function currentPolicy(context: ActionContext): Promise<AccountPasswordPolicy | null> {
  const iam = context.clients.create(IAMClient, context.target);
  try {
    const { PasswordPolicy: policy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
    return policy === undefined ? null : normalize(policy);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return null;
    throw error;
  }
}

function normalize(policy: PasswordPolicy): AccountPasswordPolicy {
  return {
    MinimumPasswordLength: policy.MinimumPasswordLength ?? 6,
    RequireUppercaseCharacters: policy.RequireUppercaseCharacters ?? false,
    RequireLowercaseCharacters: policy.RequireLowercaseCharacters ?? false,
    RequireSymbols: policy.RequireSymbols ?? false,
    RequireNumbers: policy.RequireNumbers ?? false,
    ...(policy.PasswordReusePrevention === undefined || policy.PasswordReusePrevention === 0 ? {} : { PasswordReusePrevention: policy.PasswordReusePrevention }),
    ...(policy.MaxPasswordAge === undefined || policy.MaxPasswordAge === 0 ? {} : { MaxPasswordAge: policy.MaxPasswordAge }),
    AllowUsersToChangePassword: policy.AllowUsersToChangePassword ?? false,
    HardExpiry: policy.HardExpiry ?? false,
  };
}

/**
 * The CIS values merged with the current policy, never weakening it: a longer
 * minimum, a larger reuse count, a shorter maximum age, a required character
 * class and hard expiry all stay as they are.
 */
export function mergePolicy(current: AccountPasswordPolicy | null, wanted: Params): AccountPasswordPolicy {
  return {
    MinimumPasswordLength: Math.max(current?.MinimumPasswordLength ?? 0, wanted.minimumPasswordLength),
    RequireUppercaseCharacters: (current?.RequireUppercaseCharacters ?? false) || wanted.requireUppercaseCharacters,
    RequireLowercaseCharacters: (current?.RequireLowercaseCharacters ?? false) || wanted.requireLowercaseCharacters,
    RequireSymbols: (current?.RequireSymbols ?? false) || wanted.requireSymbols,
    RequireNumbers: (current?.RequireNumbers ?? false) || wanted.requireNumbers,
    PasswordReusePrevention: Math.max(current?.PasswordReusePrevention ?? 0, wanted.passwordReusePrevention),
    MaxPasswordAge: Math.min(current?.MaxPasswordAge ?? Number.POSITIVE_INFINITY, wanted.maxPasswordAge),
    AllowUsersToChangePassword: (current?.AllowUsersToChangePassword ?? false) || wanted.allowUsersToChangePassword,
    HardExpiry: (current?.HardExpiry ?? false) || wanted.hardExpiry,
  };
}

function changesBetween(current: AccountPasswordPolicy | null, next: AccountPasswordPolicy): PlannedChange[] {
  return FIELDS.filter((field) => current?.[field] !== next[field]).map((field) => ({ field, from: current?.[field] ?? null, to: next[field] }));
}

const resourceOf = (context: ActionContext): string => `AWS::::Account:${context.target.account}`;

async function update(context: ActionContext, policy: AccountPasswordPolicy): Promise<void> {
  await context.clients.create(IAMClient, context.target).send(new UpdateAccountPasswordPolicyCommand({ ...policy }));
}

/**
 * Sets the account password policy to the CIS values, merged with the
 * current policy so that no stricter existing setting is weakened.
 *
 * ```yaml
 * - iam.set-password-policy: { minimumPasswordLength: 16 }
 * ```
 */
export const setPasswordPolicy = defineAction({
  name: 'iam.set-password-policy',
  description: 'Set the IAM account password policy to CIS values (never weakening a stricter existing setting)',
  params,
  target: 'account',
  permissions: {
    member: ['iam:GetAccountPasswordPolicy', 'iam:UpdateAccountPasswordPolicy', 'iam:DeleteAccountPasswordPolicy'],
    hosting: [],
  },
  changesResources: true,
  behaviour: {
    async plan(context, wanted) {
      const current = await currentPolicy(context);
      const changes = changesBetween(current, mergePolicy(current, wanted));
      return {
        action: 'iam.set-password-policy',
        resource: resourceOf(context),
        compliant: changes.length === 0,
        summary:
          changes.length === 0
            ? `account ${context.target.account}: password policy already compliant`
            : `account ${context.target.account}: would set ${changes.map((c) => `${c.field} ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`).join(', ')}`,
        changes,
      };
    },
    async run(context, wanted) {
      // Read again, not the plan's reading: the state may have moved since.
      const current = await currentPolicy(context);
      const next = mergePolicy(current, wanted);
      const changes = changesBetween(current, next);
      if (changes.length === 0) {
        return { action: 'iam.set-password-policy', resource: resourceOf(context), changed: false, summary: 'password policy already compliant; nothing changed', changes };
      }
      await update(context, next);
      return {
        action: 'iam.set-password-policy',
        resource: resourceOf(context),
        changed: true,
        summary: `password policy set: ${changes.map((c) => c.field).join(', ')}`,
        changes,
        undo: { previous: current },
      };
    },
    async verify(context, wanted) {
      const current = await currentPolicy(context);
      const failing = current === null ? ['no password policy'] : changesBetween(current, mergePolicy(current, wanted)).map((change) => change.field);
      return {
        compliant: failing.length === 0,
        summary: failing.length === 0 ? 'password policy meets the CIS values' : `password policy still short of: ${failing.join(', ')}`,
      };
    },
    async rollback(context, undo: PasswordPolicyUndo) {
      const current = await currentPolicy(context);
      if (undo.previous === null) {
        if (current !== null) await context.clients.create(IAMClient, context.target).send(new DeleteAccountPasswordPolicyCommand({}));
      } else {
        await update(context, undo.previous);
      }
      const changes = undo.previous === null ? (current === null ? [] : [{ field: 'PasswordPolicy', from: 'set', to: null }]) : changesBetween(current, undo.previous);
      return {
        action: 'iam.set-password-policy',
        resource: resourceOf(context),
        changed: changes.length > 0,
        summary: undo.previous === null ? 'password policy removed, as before the run' : 'previous password policy restored',
        changes,
      };
    },
  },
});
