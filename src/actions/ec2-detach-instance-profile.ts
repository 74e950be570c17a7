import { z } from 'zod';

import { defineAction } from './registry.js';

/**
 * Removes the instance profile from the instance, recording it for rollback.
 *
 * ```yaml
 * - ec2.detach-instance-profile: {}
 * ```
 */
export const detachInstanceProfile = defineAction({
  name: 'ec2.detach-instance-profile',
  description: 'Detach the instance profile (recorded so rollback can re-associate it)',
  params: z.strictObject({}),
  target: 'instance',
  permissions: {
    member: [
      'ec2:DescribeIamInstanceProfileAssociations',
      'ec2:DisassociateIamInstanceProfile',
      'ec2:AssociateIamInstanceProfile',
      'iam:PassRole',
    ],
    hosting: [],
  },
  changesResources: true,
  reversible: true,
});
