import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Denies everything to sessions of the instance's role issued before now
 * (an inline policy on `aws:TokenIssueTime`): removing the profile does not
 * invalidate credentials already taken from the instance.
 *
 * ```yaml
 * - iam.revoke-role-sessions: {}
 * ```
 */
export const revokeRoleSessions = defineAction({
  name: 'iam.revoke-role-sessions',
  description: "Revoke the instance role's existing sessions (deny tokens issued before now)",
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: ['ec2:DescribeIamInstanceProfileAssociations', 'iam:GetInstanceProfile', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
    hosting: [],
  },
  changesResources: true,
  reversible: true,
});
