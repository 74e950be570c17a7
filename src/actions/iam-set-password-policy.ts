import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Sets the account password policy to the CIS AWS Foundations values, merged
 * with the current policy so that no stricter existing setting is weakened.
 *
 * ```yaml
 * - iam.set-password-policy: { minimumPasswordLength: 16 }
 * ```
 */
export const setPasswordPolicy = defineAction({
  name: 'iam.set-password-policy',
  description: 'Set the IAM account password policy to CIS values (never weakening a stricter existing setting)',
  params: z.strictObject({
    minimumPasswordLength: z.number().int().min(14).max(128).default(14),
    requireUppercaseCharacters: z.boolean().default(true),
    requireLowercaseCharacters: z.boolean().default(true),
    requireSymbols: z.boolean().default(true),
    requireNumbers: z.boolean().default(true),
    passwordReusePrevention: z.number().int().min(1).max(24).default(24),
    maxPasswordAge: z.number().int().min(1).max(90).default(90),
    allowUsersToChangePassword: z.boolean().default(true),
    hardExpiry: z.boolean().optional(),
  }),
  target: 'account',
  permissions: {
    member: ['iam:GetAccountPasswordPolicy', 'iam:UpdateAccountPasswordPolicy', 'iam:DeleteAccountPasswordPolicy'],
    hosting: [],
  },
  changesResources: true,
  reversible: true,
});
